// A TCP port on 127.0.0.1 that was free a moment ago.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_FREE_PORT_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_FREE_PORT_H_

namespace teleclaude::mesh::testing {

// Binds port 0 on 127.0.0.1, reads the port the kernel chose, closes. Ports
// handed out by one process are never repeated within it.
int FreeLoopbackPort();

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_FREE_PORT_H_

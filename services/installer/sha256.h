// SHA-256 of a byte string (OpenSSL libcrypto), as lower-case hex. The installer
// identifies a cartridge version by the hash of its source. Pure; thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_SHA256_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_SHA256_H_

#include <string>
#include <string_view>

namespace teleclaude::mesh {

// 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_SHA256_H_

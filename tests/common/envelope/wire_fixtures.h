// Loads the wire test vectors recorded from the Python model
// (../shared/wire, see its README.md) for the envelope tests.
#ifndef TELECLAUDE_MESH_TESTS_COMMON_ENVELOPE_WIRE_FIXTURES_H_
#define TELECLAUDE_MESH_TESTS_COMMON_ENVELOPE_WIRE_FIXTURES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/envelope/stream_codec.h"

namespace teleclaude::mesh::testing {

struct ValidCase {
  std::string name;
  std::string input_json;
  std::string model_dump_json;
  StreamFields stream_dict;
  std::string stream_roundtrip_model_dump_json;
  std::vector<std::string> model_extra_keys;
};

struct InvalidCase {
  std::string name;
  std::string payload;
  std::string first_error_field;  // loc joined with '.', "(root)" if empty
  std::string first_error_type;
};

// The fixture directory compiled in (TM_WIRE_DIR).
std::string WireDir();

// NotFound with a clear message when the files are missing.
absl::StatusOr<std::vector<ValidCase>> LoadValidCases();
absl::StatusOr<std::vector<InvalidCase>> LoadInvalidCases();

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_COMMON_ENVELOPE_WIRE_FIXTURES_H_

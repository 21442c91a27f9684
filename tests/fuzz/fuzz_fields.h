// How fuzz targets turn their input into stream-entry fields: split at 0x00
// bytes into fields, each field at its first 0x01 byte into name and value
// (no 0x01: the value is empty), so the fuzzer can spell real field names.
#ifndef TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_FIELDS_H_
#define TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_FIELDS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace teleclaude::mesh::fuzz {

// `input` split at `separator`.
inline std::vector<std::string_view> SplitAt(std::string_view input, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= input.size(); ++i) {
    if (i < input.size() && input[i] != separator) continue;
    parts.push_back(input.substr(start, i - start));
    start = i + 1;
  }
  return parts;
}

inline std::vector<std::pair<std::string, std::string>> FieldsFromBytes(std::string_view input) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (std::string_view field : SplitAt(input, '\0')) {
    const size_t sep = field.find('\x01');
    if (sep == std::string_view::npos) {
      fields.emplace_back(std::string(field), std::string());
    } else {
      fields.emplace_back(std::string(field.substr(0, sep)), std::string(field.substr(sep + 1)));
    }
  }
  return fields;
}

}  // namespace teleclaude::mesh::fuzz

#endif  // TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_FIELDS_H_

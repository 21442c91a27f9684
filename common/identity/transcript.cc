#include "common/identity/transcript.h"

namespace teleclaude::mesh {

std::string TranscriptBytes(std::string_view domain,
                            std::initializer_list<std::string_view> fields) {
  size_t size = domain.size() + 1;
  for (std::string_view f : fields) size += 8 + f.size();
  std::string out;
  out.reserve(size);
  WriteTranscript(domain, fields, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

std::string TranscriptList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    const std::array<char, 8> length = FieldLength(item.size());
    out.append(length.data(), length.size());
    out.append(item);
  }
  return out;
}

}  // namespace teleclaude::mesh

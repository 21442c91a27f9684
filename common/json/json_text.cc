// Canonical JSON text: see json_text.h and doc/wire.md.
#include "common/json/json_text.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "common/base/strings.h"
#include "common/json/canonical_writer.h"
#include "common/json/reader.h"

namespace teleclaude::mesh::json {

absl::StatusOr<std::string> Canonicalize(std::string_view any_json, NonFinite non_finite) {
  std::string out;
  out.reserve(any_json.size());
  // Text that is canonical already, or only spaced as json.dumps spaces it
  // (local stream entries), needs no parser: it is checked and copied.
  if (AppendCanonicalIfPlain(any_json, &out)) return out;
  return CanonicalizeWithParser(any_json, non_finite);
}

absl::StatusOr<std::string> CanonicalizeWithParser(std::string_view any_json,
                                                   NonFinite non_finite) {
  std::string out;
  out.reserve(any_json.size());
  // One writer per thread and mode, reused: its frames keep their capacity.
  // One grown by a big text is replaced, so a thread does not keep that memory.
  thread_local CanonicalWriter writers[2] = {CanonicalWriter(NonFinite::kNull),
                                             CanonicalWriter(NonFinite::kKeep)};
  CanonicalWriter& writer = writers[non_finite == NonFinite::kKeep ? 1 : 0];
  writer.Reset(&out);
  absl::Status st = ParseJson(any_json, writer, "(root)", &writer.error(), [&] {
    out.clear();
    writer.Reset(&out);
  });
  if (any_json.size() >= (64 << 10)) writer = CanonicalWriter(non_finite);
  if (!st.ok()) {
    // Drop the "(root): " prefix: callers add their own context.
    return absl::InvalidArgumentError(st.message().substr(8));
  }
  return out;
}

absl::StatusOr<std::string> CanonicalizeObject(std::string_view any_json,
                                               std::string_view field_name, NonFinite non_finite) {
  absl::StatusOr<std::string> c = Canonicalize(any_json, non_finite);
  if (!c.ok()) {
    return absl::InvalidArgumentError(Cat(field_name, ": ", ToStd(c.status().message())));
  }
  if (c->empty() || c->front() != '{') {
    return absl::InvalidArgumentError(
        Cat(field_name, ": expected a JSON object, got ", KindOfCanonical(*c)));
  }
  return c;
}

namespace {

bool IsNumberStart(char c) { return c == '-' || (c >= '0' && c <= '9') || c == 'N' || c == 'I'; }

}  // namespace

void AppendPythonJson(std::string_view text, std::string* out) {
  // reserve() allocates exactly what is asked: only grow, geometrically.
  if (out->capacity() < out->size() + text.size() + text.size() / 8) {
    out->reserve(std::max(2 * out->capacity(), out->size() + text.size() + text.size() / 8));
  }
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    switch (c) {
      case '"': {
        std::string s = UnescapeAt(text, i);
        AppendPythonQuoted(s, out);
        break;
      }
      case ',':
        out->append(", ");
        ++i;
        break;
      case ':':
        out->append(": ");
        ++i;
        break;
      case '{':
      case '}':
      case '[':
      case ']':
        out->push_back(c);
        ++i;
        break;
      case 't':
        out->append("true");
        i += 4;
        break;
      case 'f':
        out->append("false");
        i += 5;
        break;
      case 'n':
        out->append("null");
        i += 4;
        break;
      default: {
        if (!IsNumberStart(c)) {  // stray whitespace etc.: not canonical
          ++i;
          break;
        }
        size_t end = NumberTokenEnd(text, i);
        std::string_view num = text.substr(i, end - i);
        switch (ClassifyNumber(num)) {
          case NumberKind::kFloat:
            AppendDoublePython(ParseDouble(num), out);
            break;
          default:
            out->append(num);
            break;
        }
        i = end;
        break;
      }
    }
  }
}

std::string ToPythonJson(std::string_view canonical) {
  std::string out;
  AppendPythonJson(canonical, &out);
  return out;
}

std::optional<std::string> GetMember(std::string_view object_json, std::string_view key) {
  absl::StatusOr<std::string> c = Canonicalize(object_json, NonFinite::kKeep);
  if (!c.ok()) return std::nullopt;
  std::optional<std::string> found;
  ForEachMember(*c, [&](const std::string& k, std::string_view v) {
    if (k == key) found = std::string(v);
  });
  return found;
}

std::optional<std::string> GetMemberString(std::string_view object_json, std::string_view key) {
  std::optional<std::string> v = GetMember(object_json, key);
  if (!v.has_value() || v->empty() || v->front() != '"') return std::nullopt;
  size_t i = 0;
  return UnescapeAt(*v, i);
}

absl::StatusOr<std::string> SetMember(std::string_view object_json, std::string_view key,
                                      std::string_view value_json) {
  absl::StatusOr<std::string> obj = CanonicalizeObject(object_json, "object", NonFinite::kKeep);
  if (!obj.ok()) return obj.status();
  absl::StatusOr<std::string> value = Canonicalize(value_json, NonFinite::kKeep);
  if (!value.ok()) {
    return absl::InvalidArgumentError(Cat("value: ", value.status().message()));
  }
  // Canonical text has no duplicate keys and quotes a key one way only, so
  // the member is found by comparing quoted text, without unescaping.
  const std::string quoted_key = Quote(key);
  const std::string_view text = *obj;
  size_t i = 1;
  while (i < text.size() && text[i] == '"') {
    const size_t key_end = SkipValue(text, i);
    const size_t value_begin = key_end + 1;  // past ':'
    const size_t value_end = SkipValue(text, value_begin);
    if (text.substr(i, key_end - i) == quoted_key) {
      std::string out;
      out.reserve(text.size() - (value_end - value_begin) + value->size());
      out.append(text, 0, value_begin);
      out.append(*value);
      out.append(text, value_end, std::string_view::npos);
      return out;
    }
    i = value_end;
    if (i < text.size() && text[i] == ',') ++i;
  }
  std::string out;
  out.reserve(text.size() + quoted_key.size() + value->size() + 2);
  out.append(text, 0, text.size() - 1);  // without the closing brace
  if (text.size() > 2) out.push_back(',');
  out.append(quoted_key);
  out.push_back(':');
  out.append(*value);
  out.push_back('}');
  return out;
}

namespace {

constexpr char kHex[] = "0123456789abcdef";

bool IsPrintableForRepr(uint32_t cp) {
  // Approximation of str.isprintable(): control characters, the C1 block,
  // line/paragraph separators, soft hyphen and unassigned private ranges are
  // escaped; everything else is printed as is.
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return false;
  if (cp == 0xAD || cp == 0x2028 || cp == 0x2029) return false;
  if (cp >= 0x200B && cp <= 0x200F) return false;
  if (cp >= 0x202A && cp <= 0x202E) return false;
  if (cp >= 0x2060 && cp <= 0x2064) return false;
  if (cp == 0xFEFF) return false;
  if (cp >= 0xE000 && cp <= 0xF8FF) return false;
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return false;
  if (cp == 0xFFFE || cp == 0xFFFF) return false;
  return true;
}

void AppendPythonRepr(std::string_view s, std::string* out) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  out->push_back(quote);
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c == '\\') {
        out->append("\\\\");
      } else if (c == static_cast<unsigned char>(quote)) {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out->append("\\n");
      } else if (c == '\r') {
        out->append("\\r");
      } else if (c == '\t') {
        out->append("\\t");
      } else if (c < 0x20 || c == 0x7F) {
        out->append("\\x");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
      } else {
        out->push_back(static_cast<char>(c));
      }
      continue;
    }
    size_t start = i;
    uint32_t cp = DecodeUtf8(s, i);
    if (IsPrintableForRepr(cp)) {
      out->append(s, start, i - start);
    } else if (cp < 0x100) {
      out->append("\\x");
      out->push_back(kHex[cp >> 4]);
      out->push_back(kHex[cp & 15]);
    } else if (cp < 0x10000) {
      out->append("\\u");
      for (int shift = 12; shift >= 0; shift -= 4) {
        out->push_back(kHex[(cp >> shift) & 15]);
      }
    } else {
      out->append("\\U");
      for (int shift = 28; shift >= 0; shift -= 4) {
        out->push_back(kHex[(cp >> shift) & 15]);
      }
    }
  }
  out->push_back(quote);
}

void AppendPythonNumberStr(std::string_view num, std::string* out) {
  switch (ClassifyNumber(num)) {
    case NumberKind::kFloat: {
      double v = ParseDouble(num);
      if (std::isnan(v)) {
        out->append("nan");
      } else if (std::isinf(v)) {
        out->append(v < 0 ? "-inf" : "inf");
      } else {
        AppendDoublePython(v, out);
      }
      break;
    }
    case NumberKind::kNaN:
      out->append("nan");
      break;
    case NumberKind::kPosInf:
      out->append("inf");
      break;
    case NumberKind::kNegInf:
      out->append("-inf");
      break;
    default:
      out->append(num);
      break;
  }
}

// Python repr of the canonical value at text[i]; advances i.
void AppendReprAt(std::string_view text, size_t& i, std::string* out) {
  if (i >= text.size()) return;
  char c = text[i];
  switch (c) {
    case '"': {
      std::string s = UnescapeAt(text, i);
      AppendPythonRepr(s, out);
      return;
    }
    case '{':
    case '[': {
      char close = c == '{' ? '}' : ']';
      out->push_back(c);
      ++i;
      bool first = true;
      while (i < text.size() && text[i] != close) {
        if (!first) out->append(", ");
        first = false;
        AppendReprAt(text, i, out);
        if (c == '{' && i < text.size() && text[i] == ':') {
          out->append(": ");
          ++i;
          AppendReprAt(text, i, out);
        }
        if (i < text.size() && text[i] == ',') ++i;
      }
      out->push_back(close);
      if (i < text.size()) ++i;
      return;
    }
    case 't':
      out->append("True");
      i += 4;
      return;
    case 'f':
      out->append("False");
      i += 5;
      return;
    case 'n':
      out->append("None");
      i += 4;
      return;
    default: {
      size_t end = NumberTokenEnd(text, i);
      if (end == i) end = i + 1;  // not canonical: make progress
      AppendPythonNumberStr(text.substr(i, end - i), out);
      i = end;
      return;
    }
  }
}

}  // namespace

std::string PythonStr(std::string_view canonical_value) {
  absl::StatusOr<std::string> c = Canonicalize(canonical_value, NonFinite::kKeep);
  if (!c.ok()) return std::string(canonical_value);
  std::string out;
  if (!c->empty() && c->front() == '"') {
    size_t i = 0;
    return UnescapeAt(*c, i);
  }
  size_t i = 0;
  AppendReprAt(*c, i, &out);
  return out;
}

}  // namespace teleclaude::mesh::json

// Timestamp spellings: see timestamp_codec.h and doc/wire.md.
#include "common/envelope/timestamp_codec.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/json/number.h"

namespace teleclaude::mesh {
namespace {

constexpr int64_t kMinUnixSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31T23:59:59Z

absl::Status Bad(std::string_view reason) {
  return absl::InvalidArgumentError(std::string(reason));
}

bool Digit(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

int DigitsAt(std::string_view s, size_t i, int n) {
  int v = 0;
  for (int k = 0; k < n; ++k) v = v * 10 + (s[i + k] - '0');
  return v;
}

bool AllDigits(std::string_view s, size_t i, int n) {
  for (int k = 0; k < n; ++k) {
    if (!Digit(s, i + k)) return false;
  }
  return true;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

absl::Status CheckDate(int year, int month, int day) {
  if (year < 1) return Bad("year 0 is out of range (1..9999)");
  if (month < 1 || month > 12) {
    return Bad("month value is outside expected range of 1-12");
  }
  if (day < 1 || day > DaysInMonth(year, month)) {
    return Bad("day value is outside expected range");
  }
  return absl::OkStatus();
}

// Parses the fraction digits at s[i] (at least one); returns micros
// (truncated to 6 digits) and advances i.
bool ParseFraction(std::string_view s, size_t& i, int32_t* micros) {
  int32_t v = 0;
  int n = 0;
  while (Digit(s, i)) {
    if (n < 6) v = v * 10 + (s[i] - '0');
    ++n;
    ++i;
  }
  if (n == 0) return false;
  for (int k = n; k < 6; ++k) v *= 10;
  *micros = v;
  return true;
}

// speedate-style: "YYYY-MM-DD" at the start of s.
absl::Status ParseDatePart(std::string_view s, int* y, int* m, int* d) {
  if (s.size() < 10) return Bad("input is too short");
  if (!AllDigits(s, 0, 4)) return Bad("invalid character in year");
  if (s[4] != '-') return Bad("invalid date separator, expected `-`");
  if (!AllDigits(s, 5, 2)) return Bad("invalid character in month");
  if (s[7] != '-') return Bad("invalid date separator, expected `-`");
  if (!AllDigits(s, 8, 2)) return Bad("invalid character in day");
  *y = DigitsAt(s, 0, 4);
  *m = DigitsAt(s, 5, 2);
  *d = DigitsAt(s, 8, 2);
  return CheckDate(*y, *m, *d);
}

absl::StatusOr<Timestamp> FromUnixParts(int64_t seconds, int64_t micros) {
  if (seconds < kMinUnixSeconds || seconds > kMaxUnixSeconds) {
    return Bad("Unix time is outside years 1..9999");
  }
  Timestamp ts;
  ts.civil = CivilFromUnixSeconds(seconds);
  ts.micros = static_cast<int32_t>(micros);
  ts.utc_offset_seconds = 0;
  return ts;
}

bool IsPlainNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t digits = 0;
  while (Digit(s, i)) {
    ++i;
    ++digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (Digit(s, i)) ++i;
  }
  return digits > 0 && i == s.size();
}

void Append2(int v, std::string* out) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

void AppendBody(const Timestamp& ts, std::string* out) {
  int64_t year = ts.civil.year();
  if (year < 0) {
    out->push_back('-');
    year = -year;
  }
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), year);
  out->append(static_cast<size_t>(std::max<ptrdiff_t>(0, 4 - (res.ptr - buf))), '0');
  out->append(buf, res.ptr);
  out->push_back('-');
  Append2(ts.civil.month(), out);
  out->push_back('-');
  Append2(ts.civil.day(), out);
  out->push_back('T');
  Append2(ts.civil.hour(), out);
  out->push_back(':');
  Append2(ts.civil.minute(), out);
  out->push_back(':');
  Append2(ts.civil.second(), out);
  if (ts.micros != 0) {
    out->push_back('.');
    int32_t v = ts.micros;
    char digits[6];
    for (int k = 5; k >= 0; --k) {
      digits[k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    out->append(digits, 6);
  }
}

void AppendOffset(int32_t offset, std::string* out) {
  out->push_back(offset < 0 ? '-' : '+');
  int32_t a = offset < 0 ? -offset : offset;
  Append2(a / 3600, out);
  out->push_back(':');
  Append2(a / 60 % 60, out);
  if (a % 60 != 0) {
    out->push_back(':');
    Append2(a % 60, out);
  }
}

// Python fromisoformat's time: HH, HH:MM, HH:MM:SS, HH:MM:SS.f+ or the
// basic forms HHMM, HHMMSS, HHMMSS.f+ (fraction: any number of digits, cut to
// six).
bool ParseIsoClock(std::string_view t, int* h, int* m, int* sec, int32_t* us) {
  if (!AllDigits(t, 0, 2)) return false;
  *h = DigitsAt(t, 0, 2);
  size_t k = 2;
  if (k == t.size()) return true;
  bool extended = t[k] == ':';
  if (extended) ++k;
  if (!AllDigits(t, k, 2)) return false;
  *m = DigitsAt(t, k, 2);
  k += 2;
  if (k == t.size()) return true;
  if (extended) {
    if (t[k] != ':') return false;
    ++k;
  }
  if (!AllDigits(t, k, 2)) return false;
  *sec = DigitsAt(t, k, 2);
  k += 2;
  if (k == t.size()) return true;
  if (t[k] != '.' && t[k] != ',') return false;
  ++k;
  if (!ParseFraction(t, k, us)) return false;
  return k == t.size();
}

}  // namespace

absl::StatusOr<Timestamp> ParseTimestamp(std::string_view s) {
  int y = 0, mo = 0, d = 0;
  absl::Status date = ParseDatePart(s, &y, &mo, &d);
  if (date.ok() && s.size() == 10) {  // date only: midnight, naive
    Timestamp ts;
    ts.civil = absl::CivilSecond(y, mo, d, 0, 0, 0);
    return ts;
  }
  absl::Status error = date;
  if (date.ok()) {
    char sep = s[10];
    if (sep != 'T' && sep != 't' && sep != ' ' && sep != '_') {
      error = Bad("invalid character in date-time separator");
    } else {
      error = absl::OkStatus();
    }
  }
  if (error.ok()) {
    size_t i = 11;
    int hh = 0, mm = 0, ss = 0;
    int32_t micros = 0;
    std::optional<int32_t> offset;
    if (!AllDigits(s, i, 2)) {
      error = Bad(s.size() < i + 2 ? "input is too short" : "invalid character in hour");
    } else if (i + 2 >= s.size() || s[i + 2] != ':') {
      error = Bad("invalid time separator, expected `:`");
    } else if (!AllDigits(s, i + 3, 2)) {
      error = Bad("invalid character in minute");
    } else {
      hh = DigitsAt(s, i, 2);
      mm = DigitsAt(s, i + 3, 2);
      i += 5;
      if (i < s.size() && s[i] == ':') {
        if (!AllDigits(s, i + 1, 2)) {
          error = Bad("invalid character in second");
        } else {
          ss = DigitsAt(s, i + 1, 2);
          i += 3;
          if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
            ++i;
            if (!ParseFraction(s, i, &micros)) {
              error = Bad("second fraction value is missing");
            }
          }
        }
      }
      if (error.ok()) {
        if (hh > 23)
          error = Bad("hour value is outside expected range of 0-23");
        else if (mm > 59)
          error = Bad("minute value is outside expected range of 0-59");
        else if (ss > 59)
          error = Bad("second value is outside expected range of 0-59");
      }
      if (error.ok() && i < s.size()) {
        char c = s[i];
        if (c == 'Z' || c == 'z') {
          offset = 0;
          ++i;
        } else if (c == '+' || c == '-') {
          int sign = c == '-' ? -1 : 1;
          if (!AllDigits(s, i + 1, 2)) {
            error = Bad("invalid timezone hour");
          } else {
            int oh = DigitsAt(s, i + 1, 2);
            int om = 0;
            size_t j = i + 3;
            if (j < s.size() && s[j] == ':') {
              if (!AllDigits(s, j + 1, 2)) {
                error = Bad("invalid timezone minute");
              } else {
                om = DigitsAt(s, j + 1, 2);
                j += 3;
              }
            } else if (AllDigits(s, j, 2)) {
              om = DigitsAt(s, j, 2);
              j += 2;
            }
            if (error.ok()) {
              if (oh > 23) {
                // speedate stops before an out-of-range offset.
                error =
                    Bad("unexpected extra characters at the end of the "
                        "input (timezone offset must be under 24 hours)");
              } else if (om > 59) {
                error =
                    Bad("timezone minute value is outside expected "
                        "range of 0-59");
              } else {
                offset = sign * (oh * 3600 + om * 60);
                i = j;
              }
            }
          }
        } else {
          error = Bad("invalid timezone sign or unexpected extra characters");
        }
      }
      if (error.ok() && i != s.size()) {
        error = Bad("unexpected extra characters at the end of the input");
      }
      if (error.ok()) {
        Timestamp ts;
        ts.civil = absl::CivilSecond(y, mo, d, hh, mm, ss);
        ts.micros = micros;
        ts.utc_offset_seconds = offset;
        return ts;
      }
    }
  }
  if (IsPlainNumber(s)) return TimestampFromUnixText(s);
  return error;
}

absl::StatusOr<Timestamp> TimestampFromUnixText(std::string_view text) {
  using json::ClassifyNumber;
  using json::NumberKind;
  NumberKind kind = ClassifyNumber(text);
  if (kind == NumberKind::kInteger) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return Bad("Unix time is outside years 1..9999");
    }
    if (v > 20000000000LL || v < -20000000000LL) {  // milliseconds
      int64_t sec = v / 1000;
      int64_t ms = v % 1000;
      if (ms < 0) {
        ms += 1000;
        --sec;
      }
      return FromUnixParts(sec, ms * 1000);
    }
    return FromUnixParts(v, 0);
  }
  if (kind != NumberKind::kFloat) {
    return Bad("expected a finite number of Unix seconds");
  }
  double v = json::ParseDouble(text);
  if (!std::isfinite(v)) return Bad("expected a finite number of Unix seconds");
  if (std::fabs(v) > 2e10) v /= 1000;
  if (v < static_cast<double>(kMinUnixSeconds) - 1 ||
      v > static_cast<double>(kMaxUnixSeconds) + 1) {
    return Bad("Unix time is outside years 1..9999");
  }
  double sec = std::floor(v);
  int64_t micros = static_cast<int64_t>(std::llround((v - sec) * 1e6));
  int64_t isec = static_cast<int64_t>(sec);
  if (micros >= 1000000) {
    micros -= 1000000;
    ++isec;
  }
  return FromUnixParts(isec, micros);
}

absl::StatusOr<Timestamp> ParseTimestampIsoformat(std::string_view s) {
  // Date: YYYY-MM-DD or YYYYMMDD.
  int y = 0, mo = 0, d = 0;
  size_t i = 0;
  if (s.size() >= 10 && s[4] == '-') {
    if (!AllDigits(s, 0, 4) || s[7] != '-' || !AllDigits(s, 5, 2) || !AllDigits(s, 8, 2)) {
      return Bad("Invalid isoformat string");
    }
    y = DigitsAt(s, 0, 4);
    mo = DigitsAt(s, 5, 2);
    d = DigitsAt(s, 8, 2);
    i = 10;
  } else if (s.size() >= 8 && AllDigits(s, 0, 8)) {
    y = DigitsAt(s, 0, 4);
    mo = DigitsAt(s, 4, 2);
    d = DigitsAt(s, 6, 2);
    i = 8;
  } else {
    return Bad("Invalid isoformat string");
  }
  if (absl::Status st = CheckDate(y, mo, d); !st.ok()) return st;
  Timestamp ts;
  if (i == s.size()) {
    ts.civil = absl::CivilSecond(y, mo, d, 0, 0, 0);
    return ts;
  }
  // Any single character separates date and time.
  unsigned char sep = static_cast<unsigned char>(s[i]);
  i += sep < 0x80 ? 1 : sep < 0xE0 ? 2 : sep < 0xF0 ? 3 : 4;
  // The time: HH[:MM[:SS[.f]]] or HH[MM[SS[.f]]], up to a zone designator.
  size_t zone = s.find_first_of("+-Z", i);
  std::string_view time =
      s.substr(i, zone == std::string_view::npos ? std::string_view::npos : zone - i);
  int hh = 0, mm = 0, ss = 0;
  int32_t micros = 0;
  if (!ParseIsoClock(time, &hh, &mm, &ss, &micros) || hh > 23 || mm > 59 || ss > 59) {
    return Bad("Invalid isoformat string");
  }
  std::optional<int32_t> offset;
  if (zone != std::string_view::npos) {
    char c = s[zone];
    std::string_view rest = s.substr(zone + 1);
    if (c == 'Z') {
      if (!rest.empty()) return Bad("Invalid isoformat string");
      offset = 0;
    } else {
      int oh = 0, om = 0, os = 0;
      int32_t ous = 0;
      if (!ParseIsoClock(rest, &oh, &om, &os, &ous) || om > 59 || os > 59) {
        return Bad("Invalid isoformat string");
      }
      if (ous != 0 || os != 0) {
        // Python allows them, but the mesh text (pydantic) cannot carry
        // them: keep every accepted timestamp writable in both forms.
        return Bad("UTC offsets with seconds are not supported");
      }
      int32_t total = oh * 3600 + om * 60 + os;
      if (total >= 86400) {
        return Bad(
            "offset must be a timedelta strictly between "
            "-timedelta(hours=24) and timedelta(hours=24)");
      }
      offset = c == '-' ? -total : total;
    }
  }
  ts.civil = absl::CivilSecond(y, mo, d, hh, mm, ss);
  ts.micros = micros;
  ts.utc_offset_seconds = offset;
  return ts;
}

absl::CivilSecond CivilFromUnixSeconds(int64_t seconds) {
  int64_t days = seconds / 86400;
  int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  // Days since 1970-01-01 -> proleptic Gregorian date: H. Hinnant,
  // "chrono-Compatible Low-Level Date Algorithms", civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);             // [1, 31]
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);              // [1, 12]
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return absl::CivilSecond(year, month, day, static_cast<int>(second_of_day / 3600),
                           static_cast<int>(second_of_day / 60 % 60),
                           static_cast<int>(second_of_day % 60));
}

void AppendTimestampMesh(const Timestamp& ts, std::string* out) {
  AppendBody(ts, out);
  if (!ts.utc_offset_seconds.has_value()) return;
  if (*ts.utc_offset_seconds == 0) {
    out->push_back('Z');
  } else {
    AppendOffset(*ts.utc_offset_seconds, out);
  }
}

void AppendTimestampStream(const Timestamp& ts, std::string* out) {
  AppendBody(ts, out);
  if (ts.utc_offset_seconds.has_value()) {
    AppendOffset(*ts.utc_offset_seconds, out);
  }
}

std::string FormatTimestampMesh(const Timestamp& ts) {
  std::string out;
  AppendTimestampMesh(ts, &out);
  return out;
}

std::string FormatTimestampStream(const Timestamp& ts) {
  std::string out;
  AppendTimestampStream(ts, &out);
  return out;
}

}  // namespace teleclaude::mesh

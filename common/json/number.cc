// Canonical JSON numbers: see number.h and doc/wire.md.
#include "common/json/number.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "common/base/strings.h"

namespace teleclaude::mesh::json {

NumberKind ClassifyNumber(std::string_view raw) {
  if (raw.empty()) return NumberKind::kInvalid;
  bool is_float = false;
  for (char c : raw) {
    switch (c) {
      case '.':
      case 'e':
      case 'E':
        is_float = true;
        break;
      case 'N':
      case 'I':
      case 'a':
      case 'n':
      case 'f':
      case 'i':
      case 't':
      case 'y':
        if (raw == "NaN") return NumberKind::kNaN;
        if (raw == "Infinity") return NumberKind::kPosInf;
        if (raw == "-Infinity") return NumberKind::kNegInf;
        return NumberKind::kInvalid;
      default:
        break;
    }
  }
  return is_float ? NumberKind::kFloat : NumberKind::kInteger;
}

double ParseDouble(std::string_view raw) {
  double value = 0;
  const char* begin = raw.data();
  const char* end = raw.data() + raw.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc()) return value;
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow: decide from the decimal exponent of the text.
    bool negative = raw.front() == '-';
    size_t i = negative ? 1 : 0;
    long long int_digits = 0;  // significant digits before the point
    bool seen_nonzero = false;
    long long leading_frac_zeros = 0;
    bool in_frac = false;
    long long exp = 0;
    for (; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '.') {
        in_frac = true;
      } else if (c == 'e' || c == 'E') {
        std::string_view e = raw.substr(i + 1);
        bool neg_exp = false;
        if (!e.empty() && (e.front() == '+' || e.front() == '-')) {
          neg_exp = e.front() == '-';
          e.remove_prefix(1);
        }
        for (char d : e) {
          if (exp < 1000000000LL) exp = exp * 10 + (d - '0');
        }
        if (neg_exp) exp = -exp;
        break;
      } else if (!in_frac) {
        if (c != '0' || seen_nonzero) {
          seen_nonzero = true;
          ++int_digits;
        }
      } else if (!seen_nonzero) {
        if (c == '0') {
          ++leading_frac_zeros;
        } else {
          seen_nonzero = true;
        }
      }
    }
    long long magnitude = int_digits > 0 ? int_digits + exp : exp - leading_frac_zeros;
    double r = magnitude > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    return negative ? -r : r;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

namespace {

// Shortest round-trip digits of a finite, non-zero |value|: value =
// 0.d1d2..dn * 10^(exp10 + 1), i.e. d1.d2..dn * 10^exp10.
struct Decimal {
  char digits[32];
  int n = 0;
  int exp10 = 0;
};

Decimal ToDecimal(double value) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(value), std::chars_format::scientific);
  Decimal d;
  const char* p = buf;
  for (; p < res.ptr && *p != 'e'; ++p) {
    if (*p != '.') d.digits[d.n++] = *p;
  }
  int exp = 0;
  bool neg = false;
  ++p;  // 'e'
  if (p < res.ptr && (*p == '+' || *p == '-')) {
    neg = *p == '-';
    ++p;
  }
  for (; p < res.ptr; ++p) exp = exp * 10 + (*p - '0');
  d.exp10 = neg ? -exp : exp;
  // Drop trailing zeros (to_chars never writes them, but be safe).
  while (d.n > 1 && d.digits[d.n - 1] == '0') --d.n;
  return d;
}

// Lays out digits: plain when lo <= exp10 < 16, exponent form otherwise.
void AppendFinite(double value, int lo, bool pad_exponent, std::string* out) {
  if (std::signbit(value)) out->push_back('-');
  if (value == 0) {
    out->append("0.0");
    return;
  }
  Decimal d = ToDecimal(value);
  if (d.exp10 >= lo && d.exp10 < 16) {
    if (d.exp10 >= 0) {
      int int_len = d.exp10 + 1;
      if (d.n <= int_len) {
        out->append(d.digits, d.n);
        out->append(static_cast<size_t>(int_len - d.n), '0');
        out->append(".0");
      } else {
        out->append(d.digits, int_len);
        out->push_back('.');
        out->append(d.digits + int_len, d.n - int_len);
      }
    } else {
      out->append("0.");
      out->append(static_cast<size_t>(-d.exp10 - 1), '0');
      out->append(d.digits, d.n);
    }
    return;
  }
  out->push_back(d.digits[0]);
  if (d.n > 1) {
    out->push_back('.');
    out->append(d.digits + 1, d.n - 1);
  }
  out->push_back('e');
  int e = d.exp10;
  out->push_back(e < 0 ? '-' : '+');
  if (e < 0) e = -e;
  if (pad_exponent && e < 10) out->push_back('0');
  char buf[8];
  auto res = std::to_chars(buf, buf + sizeof(buf), e);
  out->append(buf, res.ptr);
}

void AppendNonFinite(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
  } else {
    out->append(value < 0 ? "-Infinity" : "Infinity");
  }
}

}  // namespace

void AppendDoubleMesh(double value, std::string* out) {
  if (!std::isfinite(value)) return AppendNonFinite(value, out);
  AppendFinite(value, -5, /*pad_exponent=*/false, out);
}

void AppendDoublePython(double value, std::string* out) {
  if (!std::isfinite(value)) return AppendNonFinite(value, out);
  AppendFinite(value, -4, /*pad_exponent=*/true, out);
}

size_t PlainDecimalLength(std::string_view raw) {
  if (raw.empty()) return 0;
  const char* p = raw.data();
  const char* end = p + raw.size();
  const char* int_begin = *p == '-' ? p + 1 : p;
  const char* dot = int_begin;
  while (dot < end && *dot >= '0' && *dot <= '9') ++dot;
  if (dot == int_begin || dot == end || *dot != '.' || dot + 1 == end) return 0;
  if (*int_begin == '0' && dot - int_begin > 1) return 0;  // not JSON
  const char* frac_end = dot + 1;
  while (frac_end < end && *frac_end >= '0' && *frac_end <= '9') ++frac_end;
  if (frac_end != end) return 0;  // exponent or junk
  // Significant digits: from the first non-zero digit to the last one.
  const char* first = nullptr;
  const char* last = nullptr;
  for (const char* c = int_begin; c < end; ++c) {
    if (*c == '.' || *c == '0') continue;
    if (first == nullptr) first = c;
    last = c;
  }
  if (first != nullptr) {
    int significant = static_cast<int>(last - first) + 1 - (first < dot && last > dot ? 1 : 0);
    if (significant > 15) return 0;
    int exp10 = first < dot ? static_cast<int>(dot - first) - 1 : -static_cast<int>(first - dot);
    if (exp10 < -5 || exp10 >= 16) return 0;
  }
  const char* kept_end = frac_end;  // the fraction without trailing zeros
  while (kept_end > dot + 2 && kept_end[-1] == '0') --kept_end;
  return static_cast<size_t>(kept_end - p);
}

bool AppendCanonicalNumber(std::string_view raw, NonFinite non_finite, std::string* out,
                           std::string* error) {
  switch (ClassifyNumber(raw)) {
    case NumberKind::kInteger:
      if (raw == "-0") {
        out->push_back('0');
      } else {
        out->append(raw);
      }
      return true;
    case NumberKind::kFloat: {
      if (size_t plain = PlainDecimalLength(raw); plain != 0) {
        out->append(raw.data(), plain);
        return true;
      }
      double v = ParseDouble(raw);
      if (!std::isfinite(v) && non_finite == NonFinite::kNull) {
        out->append("null");
      } else {
        AppendDoubleMesh(v, out);
      }
      return true;
    }
    case NumberKind::kNaN:
    case NumberKind::kPosInf:
    case NumberKind::kNegInf:
      if (non_finite == NonFinite::kNull) {
        out->append("null");
      } else {
        out->append(raw);
      }
      return true;
    case NumberKind::kInvalid:
      break;
  }
  *error = Cat("invalid number '", raw.substr(0, 40),
               "' (only NaN, Infinity and -Infinity are allowed "
               "besides JSON numbers)");
  return false;
}

std::string FormatDoubleMesh(double value) {
  std::string out;
  AppendDoubleMesh(value, &out);
  return out;
}

std::string FormatDoublePython(double value) {
  std::string out;
  AppendDoublePython(value, &out);
  return out;
}

}  // namespace teleclaude::mesh::json

// A Redis reply as a value (built by hiredis' reader, see redis_client.cc).
// Error replies are values too: a pipeline may mix them with successes.
#ifndef TELECLAUDE_MESH_COMMON_REDIS_REDIS_REPLY_H_
#define TELECLAUDE_MESH_COMMON_REDIS_REDIS_REPLY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace teleclaude::mesh {

// Value type; thread-compatible.
class RedisReply {
 public:
  enum class Kind { kNil, kInteger, kString, kStatus, kError, kArray };

  RedisReply() = default;
  static RedisReply Nil() { return RedisReply(); }
  static RedisReply Integer(int64_t v) {
    RedisReply r;
    r.kind_ = Kind::kInteger;
    r.integer_ = v;
    return r;
  }
  static RedisReply String(std::string s) { return Text(Kind::kString, std::move(s)); }
  static RedisReply Status(std::string s) { return Text(Kind::kStatus, std::move(s)); }
  static RedisReply Error(std::string s) { return Text(Kind::kError, std::move(s)); }
  static RedisReply Array(std::vector<RedisReply> elements) {
    RedisReply r;
    r.kind_ = Kind::kArray;
    r.elements_ = std::move(elements);
    return r;
  }

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::kNil; }
  bool is_error() const { return kind_ == Kind::kError; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_integer() const { return kind_ == Kind::kInteger; }
  // The integer of an integer reply (0 otherwise).
  int64_t integer() const { return integer_; }
  // The text of a string, status or error reply ("" otherwise).
  const std::string& str() const { return str_; }
  // The same, to move the text out.
  std::string& mutable_str() { return str_; }
  // The elements of an array reply (empty otherwise).
  const std::vector<RedisReply>& elements() const { return elements_; }
  std::vector<RedisReply>& mutable_elements() { return elements_; }

 private:
  friend struct RedisReplyBuilder;  // redis_client.cc: fills replies in place

  static RedisReply Text(Kind kind, std::string s) {
    RedisReply r;
    r.kind_ = kind;
    r.str_ = std::move(s);
    return r;
  }

  Kind kind_ = Kind::kNil;
  int64_t integer_ = 0;
  std::string str_;
  std::vector<RedisReply> elements_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_REDIS_REDIS_REPLY_H_

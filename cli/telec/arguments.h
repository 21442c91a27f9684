// telec's command tree and its command-line parsing (DESIGN §6, issue 6).
//
// A command line is `telec WORD... [ARG...] [OPTIONS]`: the leading words
// pick a command ("cartridges list", "peers"), the remaining words are its
// arguments, and options may follow anywhere after the words (and "--" ends
// them). Options are either the command's own (`--json`, `--payload JSON`;
// spelled with '-' or '_', `--opt=value` or `--opt value`) or one of the
// configuration flags of common/config (`--egress_addr`, `--flagfile`, ...),
// which are handed to InitProcess unchanged. Global options — configuration
// flags, `--json` and `--help` / `-h` — may also come before or between the
// words (`telec --json notifications list`). `--help` at any level asks for
// the help of that level.
//
// Everything here is pure (it reads the absl flag registry only to know
// which configuration flags exist) and thread-compatible.
#ifndef TELECLAUDE_MESH_CLI_TELEC_ARGUMENTS_H_
#define TELECLAUDE_MESH_CLI_TELEC_ARGUMENTS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace teleclaude::mesh::telec {

// One option of a command.
struct OptionSpec {
  std::string_view name;        // as written, without "--": "include-meta"
  std::string_view value_name;  // "" for a switch, e.g. "JSON"
  std::string_view help;
};

// One command: a leaf of the tree.
struct CommandSpec {
  std::string_view path;  // words, space-separated: "cartridges list"
  std::string_view args;  // argument synopsis: "NAME", "" for none
  int min_args = 0;
  int max_args = 0;
  std::string_view summary;  // one line
  std::string_view details;  // more help text, may be empty
  std::vector<OptionSpec> options;
  // The words an argument may be, for shell completion (empty: any).
  std::vector<std::string_view> arg_choices = {};

  // The spec of option `name` ('-' and '_' equivalent), or nullptr.
  const OptionSpec* FindOption(std::string_view name) const;
};

// Every command, in help order.
const std::vector<CommandSpec>& AllCommands();

// The command at `path`, or nullptr (a group or unknown).
const CommandSpec* FindCommand(std::string_view path);

// What the command line asks for.
struct Invocation {
  // The level the words reached: "" (telec itself), a group ("cartridges")
  // or a command path ("cartridges list").
  std::string level;
  // The command when `level` is one; nullptr for the root or a group.
  const CommandSpec* command = nullptr;
  bool help = false;     // --help / -h: print HelpText(level), exit 0
  bool version = false;  // --version where it is not a command option
  // Non-empty: the command line is wrong; print it and the usage of `level`
  // on stderr, exit 2.
  std::string error;
  std::vector<std::string> args;               // the command's arguments
  std::map<std::string, std::string> options;  // spec name -> value ("true" for switches)
  // Configuration flags, normalised to "--name=value" (or "--name" for a
  // switch), for InitProcess.
  std::vector<std::string> config_flags;

  bool Has(std::string_view option) const;
  // The option's value, or nullopt when it was not given.
  std::optional<std::string> Get(std::string_view option) const;
  // Whether switch `option` is on (given without value, or =true/1/yes).
  bool Switch(std::string_view option) const;
};

// The configuration flags telec accepts on its command line (those of
// common/config, and --flagfile): name -> whether the flag is a switch.
std::map<std::string, bool> ConfigFlags();

// Parses `args` (argv without the program name).
Invocation ParseArguments(const std::vector<std::string>& args);

// The help of a level ("" = telec, a group, or a command path): usage,
// commands or options, and how configuration flags are given. Ends with a
// newline.
std::string HelpText(std::string_view level);

// The one-paragraph usage of a level shown after a command-line error.
std::string UsageText(std::string_view level);

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_ARGUMENTS_H_

#include "cli/telec/arguments.h"

#include <algorithm>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "common/base/strings.h"

namespace teleclaude::mesh::telec {
namespace {

constexpr OptionSpec kJson{"json", "", "print machine-readable JSON instead of text"};

std::vector<CommandSpec> BuildCommands() {
  return {
      {"cartridges list",
       "",
       0,
       0,
       "list every cartridge the installer knows, system cartridges included",
       "Status is one of pending, active, rejected, superseded, suspended, failed or\n"
       "system. A file in cartridges/incoming/ without a registry row is listed as\n"
       "\"pending (file only)\".",
       {kJson}},
      {"cartridges show", "NAME", 1, 1, "show a cartridge's metadata and source", "", {kJson}},
      {"cartridges activate",
       "NAME",
       1,
       1,
       "activate a pending cartridge (a human decision of the sovereignty gate)",
       "",
       {kJson}},
      {"cartridges reject",
       "NAME",
       1,
       1,
       "reject a pending cartridge",
       "",
       {{"reason", "TEXT", "why (recorded with the decision)"}, kJson}},
      {"cartridges deactivate",
       "NAME",
       1,
       1,
       "turn off an active (or suspended) cartridge: egress stops running it",
       "The cartridge becomes inactive; 'telec cartridges activate NAME' turns it on\n"
       "again. Audited, and a cartridge.deactivated notification says so.",
       {{"reason", "TEXT", "why (recorded with the decision)"}, kJson}},
      {"cartridges remove",
       "NAME",
       1,
       1,
       "remove every version of a cartridge from the registry and its files",
       "An active version stops running, a pending one's install_pending\n"
       "notification is resolved. The audit log keeps the cartridge's history\n"
       "(a cartridge.removed notification says so).",
       {{"reason", "TEXT", "why (recorded in the audit log)"}, kJson}},
      {"cartridges publish",
       "FILE",
       1,
       1,
       "publish a cartridge to the mesh as a cartridge.published event (public)",
       "The file's content is sent base64-encoded; the author is this computer\n"
       "(as egress reports it). The name must match ^[a-z0-9][a-z0-9_-]{0,63}$.",
       {{"name", "NAME", "cartridge name (required)"},
        {"version", "VERSION", "cartridge version, e.g. 1.0.0 (required)"},
        {"event-type", "TYPE", "the event type the cartridge handles (default: any)"},
        {"runtime", "RUNTIME", "runtime of the source (default: lua)"},
        {"entry-point", "FUNCTION", "function the runtime calls (default: process)"},
        {"description", "TEXT", "what the cartridge does"},
        {"dependencies", "A,B", "comma-separated names of cartridges it needs"},
        kJson}},
      {"events emit",
       "TYPE",
       1,
       1,
       "emit an event of TYPE through this computer's pipeline",
       "Defaults for level, visibility and domain come from the event catalog.",
       {{"payload", "JSON",
         "the payload, a JSON object (default: {}); @FILE reads it from FILE, - from stdin"},
        {"level", "LEVEL", "0-3 or infrastructure, operational, workflow, business"},
        {"visibility", "VIS", "local, cluster or public"},
        {"domain", "DOMAIN", "the event's domain"},
        {"entity", "ENTITY", "the entity the event is about"},
        {"description", "TEXT", "a human-readable description"},
        {"idempotency-key", "KEY", "explicit idempotency key"},
        {"source", "SOURCE", "the event's source (default: this computer's name)"},
        kJson}},
      {"events tail",
       "",
       0,
       0,
       "follow the events egress processes, until Ctrl-C",
       "A header, then one line per event: time, type, level, visibility, source,\n"
       "origin and the payload (abbreviated). With --json, one JSON object per line\n"
       "and no header. --last N first shows the last N events egress still keeps\n"
       "(telec-egress --watch_history, 1000 by default).",
       {{"type", "PREFIX", "only events whose type starts with PREFIX"},
        {"include-meta", "", "include cartridge.invoked events"},
        {"last", "N", "start with the last N events (default 0: only new ones)"},
        kJson}},
      {"events types",
       "[PATTERN]",
       0,
       1,
       "list the event catalog: each type's level, visibility and lifecycle",
       "PATTERN is a prefix (\"system.\") or a glob (\"*.crashed\"). LIFECYCLE says\n"
       "what an event of the type does to notifications: creates (a new one),\n"
       "updates or resolves (an existing one of its group), none (no notification).",
       {kJson}},
      {"notifications list",
       "",
       0,
       0,
       "list notifications, newest first",
       "",
       {{"level", "LEVEL", "minimum level: 0-3 or a level name"},
        {"domain", "DOMAIN", "only this domain"},
        {"unseen", "", "only notifications no human has seen"},
        {"seen", "", "only notifications a human has seen"},
        {"agent-status", "STATUS", "none, claimed or resolved"},
        {"visibility", "VIS", "local, cluster or public"},
        {"since", "TIME", "created at or after TIME (ISO 8601)"},
        {"type", "PREFIX", "only event types starting with PREFIX"},
        {"limit", "N", "at most N rows (default 50)"},
        {"offset", "N", "skip the first N rows"},
        kJson}},
      {"notifications show", "ID", 1, 1, "show one notification with its payload", "", {kJson}},
      {"notifications seen", "ID", 1, 1, "mark a notification as seen", "", {kJson}},
      {"notifications resolve",
       "ID",
       1,
       1,
       "resolve a notification",
       "Resolving a cartridge.install_pending notification with\n"
       "--resolution '{\"decision\":\"approve\"}' activates the cartridge (\"reject\"\n"
       "rejects it; any other resolution of it is refused). A notification that\n"
       "is resolved already is refused unless --force.",
       {{"resolution", "JSON",
         "the resolution, a JSON object (default: {}); @FILE reads it from FILE, - from stdin"},
        {"force", "", "replace the resolution of a notification already resolved"},
        kJson}},
      {"ingress quarantined",
       "",
       0,
       0,
       "list the events ingress' trust gate quarantined, newest first",
       "A quarantined event was not submitted to this computer's pipeline; it is\n"
       "kept in ingress.db with the trust flags that held it back (e.g.\n"
       "unknown_source: under --trust_strictness=strict, a trusted peer's event\n"
       "naming a source no one knows). SOURCE is the envelope's source. --json\n"
       "includes each event's envelope.",
       {{"limit", "N", "at most N rows (default 50, at most 1000)"},
        {"offset", "N", "skip the first N rows"},
        kJson}},
      {"peers",
       "",
       0,
       0,
       "list the computers this one knows: live, away or forgotten",
       "A peer whose heartbeat lapsed (or that stopped cleanly) is away: it stays a\n"
       "destination for its last visibility class, and its events are trusted by its\n"
       "record, for --peer_retention (default 24h). Forgotten peers are neither,\n"
       "until they heartbeat again. FINGERPRINT is the key pinned for it (first_use\n"
       "or provisioned; verified when its last heartbeat was signed by it), or\n"
       "'offers' a key waiting for `telec peers trust` (doc/security.md).",
       {kJson}},
      {"peers forget",
       "NAME",
       1,
       1,
       "forget a peer now: no longer a destination or a trusted sender",
       "Ingress (the writer of membership.db) marks it forgotten; its next heartbeat\n"
       "brings it back as a new computer.",
       {kJson}},
      {"peers trust",
       "NAME",
       1,
       1,
       "pin the key a peer now offers (a changed key, or one --trusted_keys lacks)",
       "Without --fingerprint, shows the offered fingerprint and changes nothing:\n"
       "compare it with `telec status` on that computer, then repeat with\n"
       "--fingerprint=FP. Its messages are accepted again (doc/security.md §6).",
       {{"fingerprint", "FP", "the fingerprint the peer offers (telec status on it)"}, kJson}},
      {"health",
       "[SERVICE...]",
       0,
       3,
       "check services with grpc.health.v1 (egress, ingress, installer; default all)",
       "SERVING means the service and what it needs work: Redis, its database, and\n"
       "(after --dependency_grace_s) the services it calls. NOT_SERVING lines say\n"
       "why. Exits 0 when every named service answers SERVING, 3 otherwise. Used\n"
       "by the Docker HEALTHCHECK.",
       {kJson},
       {"egress", "ingress", "installer"}},
      {"status",
       "",
       0,
       0,
       "one screen: services up/down, Redis, computer and cluster, sovereignty, counters",
       "Exits with status 3 when a service is down or not serving (the screen is\n"
       "printed anyway).",
       {kJson}},
      {"completion",
       "bash",
       1,
       1,
       "print a bash completion script for telec",
       "Generated from telec's own command table. Load it in the current shell with\n"
       "  source <(telec completion bash)\n"
       "or install it: telec completion bash > /etc/bash_completion.d/telec",
       {},
       {"bash"}},
  };
}

std::string Normalize(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

// The command words below `level` (immediate children), in help order, with
// whether each is a group.
std::vector<std::pair<std::string, bool>> Children(std::string_view level) {
  std::vector<std::pair<std::string, bool>> out;
  std::string prefix = level.empty() ? "" : Cat(level, " ");
  for (const CommandSpec& c : AllCommands()) {
    std::string_view path = c.path;
    if (!path.starts_with(prefix) || path.size() == prefix.size()) continue;
    std::string_view rest = path.substr(prefix.size());
    size_t space = rest.find(' ');
    std::string word(rest.substr(0, space));
    bool group = space != std::string_view::npos;
    if (std::none_of(out.begin(), out.end(), [&](const auto& p) { return p.first == word; })) {
      out.emplace_back(word, group);
    }
  }
  return out;
}

bool IsChild(std::string_view level, std::string_view word) {
  auto children = Children(level);
  return std::any_of(children.begin(), children.end(),
                     [&](const auto& c) { return c.first == word; });
}

bool IsConfigFlag(const std::string& name, bool* is_bool) {
  if (name == "flagfile") {
    *is_bool = false;
    return true;
  }
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr) return false;
  // Only the configuration flags of common/config (and flags of our own
  // code); abseil's and glog's flags are not telec options.
  if (absl::StrContains(flag->Filename(), "absl/")) return false;
  *is_bool = flag->IsOfType<bool>();
  return true;
}

std::string CommandName(std::string_view level) {
  return level.empty() ? "telec" : Cat("telec ", level);
}

}  // namespace

const OptionSpec* CommandSpec::FindOption(std::string_view name) const {
  std::string wanted = Normalize(name);
  for (const OptionSpec& o : options) {
    if (Normalize(o.name) == wanted) return &o;
  }
  return nullptr;
}

const std::vector<CommandSpec>& AllCommands() {
  static const auto* const kCommands = new std::vector<CommandSpec>(BuildCommands());
  return *kCommands;
}

const CommandSpec* FindCommand(std::string_view path) {
  for (const CommandSpec& c : AllCommands()) {
    if (c.path == path) return &c;
  }
  return nullptr;
}

std::map<std::string, bool> ConfigFlags() {
  std::map<std::string, bool> out = {{"flagfile", false}};
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    bool is_bool = false;
    if (IsConfigFlag(std::string(name), &is_bool)) out[std::string(name)] = is_bool;
  }
  return out;
}

bool Invocation::Has(std::string_view option) const {
  return options.find(std::string(option)) != options.end();
}

std::optional<std::string> Invocation::Get(std::string_view option) const {
  auto it = options.find(std::string(option));
  if (it == options.end()) return std::nullopt;
  return it->second;
}

bool Invocation::Switch(std::string_view option) const {
  std::optional<std::string> v = Get(option);
  return v && (*v == "true" || *v == "1" || *v == "yes");
}

Invocation ParseArguments(const std::vector<std::string>& args) {
  Invocation inv;
  bool words_done = false;  // a command (leaf) was reached
  bool options_done = false;
  std::optional<std::string> early_json;  // --json before the command words
  auto fail = [&](std::string message) {
    if (inv.error.empty()) inv.error = std::move(message);
  };
  for (size_t i = 0; i < args.size() && inv.error.empty(); ++i) {
    const std::string& arg = args[i];
    bool is_option = !options_done && arg.size() >= 2 && arg[0] == '-' && arg != "-";
    if (!is_option) {
      // A command that is also a group (`peers`, `peers forget`): a child
      // word right after it descends.
      if (!words_done || (inv.args.empty() && IsChild(inv.level, arg))) {
        std::string next = inv.level.empty() ? arg : Cat(inv.level, " ", arg);
        auto children = Children(inv.level);
        if (std::none_of(children.begin(), children.end(),
                         [&](const auto& c) { return c.first == arg; })) {
          fail(Cat("unknown command \"", arg, "\""));
          break;
        }
        inv.level = std::move(next);
        inv.command = FindCommand(inv.level);
        words_done = inv.command != nullptr;
      } else {
        inv.args.push_back(arg);
      }
      continue;
    }
    if (arg == "--") {
      options_done = true;
      words_done = words_done || inv.command != nullptr;
      continue;
    }
    std::string_view body(arg);
    body.remove_prefix(body[1] == '-' ? 2 : 1);
    std::string name(body);
    std::optional<std::string> value;
    if (size_t eq = body.find('='); eq != std::string_view::npos) {
      name = std::string(body.substr(0, eq));
      value = std::string(body.substr(eq + 1));
    }
    if (name == "help" || name == "h") {
      inv.help = true;
      continue;
    }
    // The command's own options come first: `cartridges publish --version`
    // is the cartridge's version, not telec's.
    if (inv.command != nullptr) {
      if (const OptionSpec* spec = inv.command->FindOption(name)) {
        if (spec->value_name.empty()) {
          if (value && *value != "true" && *value != "false" && *value != "1" && *value != "0" &&
              *value != "yes" && *value != "no") {
            fail(Cat("--", spec->name, " is a switch; write --", spec->name, " without a value"));
            break;
          }
          inv.options[std::string(spec->name)] = value.value_or("true");
        } else {
          if (!value) {
            if (i + 1 >= args.size()) {
              fail(Cat("--", spec->name, " needs a value; write --", spec->name, "=",
                       spec->value_name));
              break;
            }
            value = args[++i];
          }
          inv.options[std::string(spec->name)] = *value;
        }
        continue;
      }
    }
    // Global switches may come before (or between) the command words.
    if (inv.command == nullptr && Normalize(name) == "json") {
      if (value && *value != "true" && *value != "false" && *value != "1" && *value != "0" &&
          *value != "yes" && *value != "no") {
        fail("--json is a switch; write --json without a value");
        break;
      }
      early_json = value.value_or("true");
      continue;
    }
    if (name == "version") {
      inv.version = true;
      continue;
    }
    bool is_bool = false;
    std::string flag_name = Normalize(name);
    if (absl::StartsWith(flag_name, "no") && !value) {
      bool positive_bool = false;
      if (IsConfigFlag(flag_name.substr(2), &positive_bool) && positive_bool) {
        inv.config_flags.push_back(Cat("--", flag_name));
        continue;
      }
    }
    if (IsConfigFlag(flag_name, &is_bool)) {
      if (!value && !is_bool) {
        if (i + 1 >= args.size()) {
          fail(Cat("--", name, " needs a value; write --", name, "=VALUE"));
          break;
        }
        value = args[++i];
      }
      inv.config_flags.push_back(value ? Cat("--", flag_name, "=", *value) : Cat("--", flag_name));
      continue;
    }
    if (inv.command == nullptr && !inv.help) {
      fail(Cat("unknown option ", arg,
               " before the command; a command's own options follow its words (only --json, "
               "--help and configuration flags may come first)"));
    } else {
      fail(Cat("unknown option --", name, " for ", CommandName(inv.level), "; see ",
               CommandName(inv.level), " --help"));
    }
  }
  if (!inv.error.empty() || inv.help || inv.version) return inv;
  if (inv.command == nullptr) {
    fail(inv.level.empty() ? "missing command" : Cat("missing command after \"", inv.level, "\""));
    return inv;
  }
  if (early_json.has_value() && !inv.Has("json")) {
    if (inv.command->FindOption("json") == nullptr) {
      fail(Cat("--json: ", CommandName(inv.level), " has no JSON output"));
      return inv;
    }
    inv.options["json"] = *early_json;
  }
  int n = static_cast<int>(inv.args.size());
  if (n < inv.command->min_args) {
    fail(Cat("missing ", inv.command->args, " (", CommandName(inv.level), " ", inv.command->args,
             ")"));
  } else if (n > inv.command->max_args) {
    fail(Cat("unexpected argument \"", inv.args[inv.command->max_args], "\""));
  }
  return inv;
}

std::string UsageText(std::string_view level) {
  std::string name = CommandName(level);
  const CommandSpec* command = FindCommand(level);
  if (command != nullptr) {
    std::string out = Cat("usage: ", name);
    if (!command->args.empty()) CatTo(out, " ", command->args);
    if (!command->options.empty()) CatTo(out, " [options]");
    CatTo(out, "\n");
    return out;
  }
  std::vector<std::string> words;
  for (const auto& [word, group] : Children(level)) words.push_back(word);
  return Cat("usage: ", name, " ", level.empty() ? "COMMAND" : "SUBCOMMAND", " ... [options]",
             "\n       (", name, " ", absl::StrJoin(words, " | "), ")\n", "run '", name,
             " --help' for more\n");
}

std::string HelpText(std::string_view level) {
  std::string name = CommandName(level);
  const CommandSpec* command = FindCommand(level);
  std::string out;
  if (command != nullptr) {
    out = Cat("usage: ", name);
    if (!command->args.empty()) CatTo(out, " ", command->args);
    if (!command->options.empty()) CatTo(out, " [options]");
    CatTo(out, "\n\n", command->summary, "\n");
    if (!command->details.empty()) CatTo(out, "\n", command->details, "\n");
    if (!command->options.empty()) {
      CatTo(out, "\noptions:\n");
      size_t width = 0;
      std::vector<std::string> lefts;
      for (const OptionSpec& o : command->options) {
        std::string left = Cat("--", o.name);
        if (!o.value_name.empty()) CatTo(left, " ", o.value_name);
        width = std::max(width, left.size());
        lefts.push_back(std::move(left));
      }
      for (size_t i = 0; i < lefts.size(); ++i) {
        CatTo(out, "  ", lefts[i], std::string(width - lefts[i].size() + 2, ' '),
              command->options[i].help, "\n");
      }
    }
    // A command that is also a group names its subcommands.
    for (const auto& [word, group] : Children(level)) {
      const CommandSpec* sub = FindCommand(Cat(level, " ", word));
      if (sub == nullptr) continue;
      CatTo(out, "\nalso: ", name, " ", word, sub->args.empty() ? "" : " ", sub->args, "  ",
            sub->summary, "\n");
    }
  } else {
    out = Cat("usage: ", name, " ", level.empty() ? "COMMAND" : "SUBCOMMAND", " ... [options]\n");
    if (level.empty()) {
      CatTo(out,
            "\ntelec is the command-line client of one computer of the TeleClaude mesh: it\n"
            "talks gRPC to telec-egress, telec-ingress and telec-installer.\n");
    }
    CatTo(out, "\ncommands:\n");
    size_t width = 0;
    std::vector<std::pair<std::string, std::string_view>> rows;
    for (const CommandSpec& c : AllCommands()) {
      std::string_view path = c.path;
      if (!level.empty() &&
          !(path.starts_with(level) && path.size() > level.size() && path[level.size()] == ' ')) {
        continue;
      }
      std::string left(path);
      if (!c.args.empty()) CatTo(left, " ", c.args);
      width = std::max(width, left.size());
      rows.emplace_back(std::move(left), c.summary);
    }
    for (const auto& [left, summary] : rows) {
      CatTo(out, "  ", left, std::string(width - left.size() + 2, ' '), summary, "\n");
    }
    CatTo(out, "\nrun 'telec COMMAND --help' for the options of a command.\n");
  }
  CatTo(out,
        "\nconfiguration (flags, or TELEC_<FLAG> environment variables; flags win):\n"
        "  --egress_addr HOST:PORT     telec-egress    (default 127.0.0.1:50051)\n"
        "  --ingress_addr HOST:PORT    telec-ingress   (default 127.0.0.1:50052)\n"
        "  --installer_addr HOST:PORT  telec-installer (default 127.0.0.1:50053)\n"
        "  --computer_name NAME        this computer (used when egress cannot say)\n"
        "  --flagfile FILE             read flags from FILE, one per line\n"
        "\nexit status: 0 ok, 1 the service refused (unknown name, wrong state),\n"
        "2 bad command line or input, 3 a service cannot be reached.\n");
  return out;
}

}  // namespace teleclaude::mesh::telec

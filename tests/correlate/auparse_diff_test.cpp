// Differential test: our grouping (parser + assembler) against libauparse on the project's kernel
// captures and small logs (tests/fixtures/), and on the shared corpora when present.
// Both sides give, per event id (node/sec.msec:serial), the ordered list of groups of record
// types (a list because an id may come out as more than one event) and the record bodies.
// auparse drops EOE; our events never hold it either.
//
// Every place where the two differ is listed below with the reason and the exact expectation.
#include <auparse.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "correlate/event_assembler.h"
#include "correlate/record.h"
#include "test_support.h"

namespace aurelay::correlate {
namespace {

using Groups = std::vector<std::vector<std::uint32_t>>;

struct Grouping {
  std::map<std::string, Groups> types;                     // id -> groups of record types
  std::map<std::string, std::vector<std::string>> bodies;  // id -> bodies (auparse: whole lines)
};

std::string event_id(std::string_view node, unsigned long long sec, unsigned msec,
                     unsigned long long serial) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%llu.%03u:%llu", sec, msec, serial);
  return node.empty() ? std::string(buffer) : std::string(node) + "/" + buffer;
}

Grouping group_with_auparse(const std::filesystem::path& path) {
  Grouping grouping;
  auparse_state_t* au = auparse_init(AUSOURCE_FILE, path.c_str());
  EXPECT_NE(au, nullptr) << path;
  if (au == nullptr) return grouping;
  while (auparse_next_event(au) > 0) {
    const au_event_t* e = auparse_get_timestamp(au);
    std::string id = event_id(e->host ? e->host : "", static_cast<unsigned long long>(e->sec),
                              e->milli, e->serial);
    std::vector<std::uint32_t> types;
    do {
      types.push_back(static_cast<std::uint32_t>(auparse_get_type(au)));
      const char* text = auparse_get_record_text(au);
      grouping.bodies[id].emplace_back(text ? text : "");
    } while (auparse_next_record(au) > 0);
    grouping.types[id].push_back(std::move(types));
  }
  auparse_destroy(au);
  return grouping;
}

Grouping group_with_aurelay(const std::filesystem::path& path, std::size_t& parse_failures) {
  Grouping grouping;
  EventAssembler assembler({}, [&](const Event& event) {
    const EventKey& k = event.key();
    std::string id = event_id(k.node, k.sec, k.msec, k.serial);
    std::vector<std::uint32_t> types;
    for (std::size_t i = 0; i < event.record_count(); ++i) {
      types.push_back(event.record_type(i));
      grouping.bodies[id].emplace_back(event.record_body(i));
    }
    grouping.types[id].push_back(std::move(types));
  });
  const std::string text = testing::read_file(path);
  std::size_t start = 0;
  parse_failures = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    RecordView view;
    if (parse_log_line(line, view) != ParseStatus::ok) {
      ++parse_failures;
      continue;
    }
    // A fixed clock: no timeouts, everything completes on EOE, a terminal type or flush().
    assembler.add(view, EventAssembler::TimePoint{});
  }
  assembler.flush();
  return grouping;
}

// One known difference: for `id` in `file`, auparse gives `auparse_groups`, we give `ours`.
struct KnownDifference {
  const char* file;
  const char* id;
  Groups auparse_groups;
  Groups ours;
  const char* reason;
};

constexpr const char* kLoginSplit =
    "auparse completes LOGIN (1006) at once and opens a second event with the same id for the "
    "SYSCALL and PROCTITLE that follow; the kernel writes LOGIN from the audited write to "
    "/proc/self/loginuid, so all three belong to one event (DESIGN.md: LOGIN waits for EOE)";
constexpr const char* kTimeWindowSplit =
    "audit-rhel7.log is sorted by record type, so records of one id are far apart; auparse "
    "closes an event in a file once a record more than a few seconds newer arrives, and the "
    "later records of the id become a second event. We group by id whatever lies between.";

const std::vector<KnownDifference>& known_differences() {
  static const std::vector<KnownDifference> list = {
      // The project's captures: each writes its login uid, one LOGIN event per write.
      {"kernel-capture-netlink.log",
       "1796170387.488:133738",
       {{1006}, {1300, 1327}},
       {{1006, 1300, 1327}},
       kLoginSplit},
      {"kernel-capture-netlink.log",
       "1796170387.752:133912",
       {{1006}, {1300, 1327}},
       {{1006, 1300, 1327}},
       kLoginSplit},
      {"kernel-capture-mozdef.log",
       "1796168187.504:51566",
       {{1006}, {1300, 1327}},
       {{1006, 1300, 1327}},
       kLoginSplit},
      {"real-small-netlink.log",
       "1795305789.994:6423",
       {{1006}, {1300, 1327}},
       {{1006, 1300, 1327}},
       kLoginSplit},
      {"real-small.log",
       "1795305789.994:6423",
       {{1006}, {1300, 1327}},
       {{1006, 1300, 1327}},
       kLoginSplit},
      {"external/audit-userspace/test.log",
       "1170021601.343:296",
       {{1006}, {1300, 1327}},
       {{1006, 1300, 1327}},
       kLoginSplit},
      {"external/audit-userspace/test2.log",
       "1170021601.343:286",
       {{1006}, {1300, 1327}},
       {{1006, 1300, 1327}},
       kLoginSplit},
      {"external/go-libaudit/audit-rhel7.log",
       "1481076984.827:17",
       {{1325}, {1300}},
       {{1325, 1300}},
       kTimeWindowSplit},
      {"external/go-libaudit/audit-rhel7.log",
       "1481077231.371:479",
       {{1307}, {1309, 1302}},
       {{1307, 1309, 1302}},
       kTimeWindowSplit},
  };
  return list;
}

// An input: its name in the list of known differences (the path under tests/fixtures/ or under
// ../shared/corpus/) and where it is.
struct Input {
  std::string name;
  std::filesystem::path path;
};

std::vector<Input> inputs() {
  std::vector<Input> list;
  for (const char* name :
       {"kernel-capture-netlink.log", "kernel-capture-mozdef.log", "kernel-capture-enriched.log",
        "assembler/continuation.log", "assembler/execve_split.log"})
    list.push_back({name, testing::fixture_path(name)});
  // Extra inputs of a development checkout.
  for (const char* name : {"real-small-netlink.log", "real-small.log"})
    if (std::filesystem::path path = testing::corpus_path(name); !path.empty())
      list.push_back({name, path});
  std::filesystem::path external = testing::corpus_path("external");
  if (!external.empty()) {
    std::vector<std::string> found;
    for (const auto& dir : std::filesystem::directory_iterator(external)) {
      if (!dir.is_directory()) continue;
      for (const auto& file : std::filesystem::directory_iterator(dir.path()))
        if (file.is_regular_file())
          found.push_back("external/" + dir.path().filename().string() + "/" +
                          file.path().filename().string());
    }
    std::sort(found.begin(), found.end());
    for (const std::string& name : found) list.push_back({name, testing::corpus_path(name)});
  }
  return list;
}

std::string describe(const Groups& groups) {
  std::string out;
  for (const auto& group : groups) {
    out += "[";
    for (std::size_t i = 0; i < group.size(); ++i) out += (i ? " " : "") + std::to_string(group[i]);
    out += "]";
  }
  return out;
}

TEST(AuparseDiffTest, GroupingMatchesAuparseExceptListedCases) {
  std::size_t files_compared = 0;
  std::size_t known_seen = 0;
  std::size_t known_expected = 0;
  const std::vector<Input> list = inputs();
  for (const auto& [name, path] : list) {
    SCOPED_TRACE(name);
    for (const KnownDifference& d : known_differences()) known_expected += name == d.file;
    std::size_t parse_failures = 0;
    Grouping theirs = group_with_auparse(path);
    Grouping ours = group_with_aurelay(path, parse_failures);
    EXPECT_EQ(parse_failures, 0u);
    EXPECT_FALSE(theirs.types.empty());
    ++files_compared;

    // Same set of ids.
    for (const auto& [id, groups] : theirs.types)
      EXPECT_TRUE(ours.types.count(id)) << "id only in auparse: " << id;
    for (const auto& [id, groups] : ours.types)
      EXPECT_TRUE(theirs.types.count(id)) << "id only in ours: " << id;

    for (const auto& [id, their_groups] : theirs.types) {
      auto it = ours.types.find(id);
      if (it == ours.types.end()) continue;
      const KnownDifference* known = nullptr;
      for (const KnownDifference& d : known_differences())
        if (name == d.file && id == d.id) known = &d;
      if (known == nullptr) {
        EXPECT_EQ(describe(it->second), describe(their_groups)) << "event " << id;
      } else {
        ++known_seen;
        EXPECT_EQ(describe(their_groups), describe(known->auparse_groups))
            << "auparse changed for " << id << ": " << known->reason;
        EXPECT_EQ(describe(it->second), describe(known->ours)) << id << ": " << known->reason;
      }
      // Same records in the same order: each auparse line ends with our body (modulo the
      // newline and trailing blanks auparse keeps or strips).
      const auto& their_lines = theirs.bodies[id];
      const auto& our_bodies = ours.bodies[id];
      ASSERT_EQ(their_lines.size(), our_bodies.size()) << id;
      for (std::size_t i = 0; i < our_bodies.size(); ++i) {
        std::string_view line = their_lines[i];
        std::string_view body = our_bodies[i];
        // An enriched record (auditd log_format = ENRICHED) ends with 0x1D and auditd's
        // interpretations; auparse's record text stops before them.
        if (std::size_t enriched = body.find('\x1d'); enriched != std::string_view::npos)
          body = body.substr(0, enriched);
        while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
        while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.remove_suffix(1);
        EXPECT_TRUE(line.size() >= body.size() && line.substr(line.size() - body.size()) == body)
            << id << " record " << i << "\n auparse: " << line << "\n ours:    " << body;
      }
    }
  }
  EXPECT_EQ(files_compared, list.size());
  EXPECT_GE(files_compared, 5u);          // the project's own inputs at least
  EXPECT_EQ(known_seen, known_expected);  // every listed case of the inputs still happens
}

}  // namespace
}  // namespace aurelay::correlate

// Benchmark: a province-sized organization tree. Loads the tree straight into `organizations`
// (setup, not the service), then times (a) listing a city's subtree through
// OrgService::Descendants, 500 a page, and (b) moving a general branch's subtree to another party
// committee and back through OrgService::Move, each next to the same SQL run directly through the
// same db::Connection, and prints median and p90 in ms and the ratio. It never asserts a time:
// it exits non-zero only when a call fails or the tree is not what it should be afterwards.
//   dj-bench-org-tree --db mysql://user:pass@host:port/db | sqlite:///path/file.db
//                     [--redis redis://host:port/n] [--orgs 100000] [--city N] [--subtree N]
//                     [--iterations 50]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/audit/audit_log.h"
#include "common/auth/principal.h"
#include "common/cache/cache.h"
#include "common/db/migrate.h"
#include "common/db/mysql_driver.h"
#include "common/db/sqlite_driver.h"
#include "common/db/url.h"
#include "common/events/events.h"
#include "common/ids/id_generator.h"
#include "common/rpc/names.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "services/org/src/org_service.h"
#include "services/org/src/schema.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using Clock = std::chrono::steady_clock;

// The page size the service allows at most (rpc::PageSize caps requests there).
constexpr int32_t kPageSize = 500;
// Setup: rows per multi-row INSERT, and rows per transaction.
constexpr size_t kInsertRows = 500;
constexpr size_t kRowsPerTransaction = 10'000;
// Party groups per branch (a branch of 7 full members and more has a committee; 6 groups is a
// large branch, which keeps the tree wide rather than adding fake depth).
constexpr int64_t kGroupsPerBranch = 6;

// The columns OrgStore reads (org_store.cc kColumns), so the raw listing fetches the same bytes.
constexpr std::string_view kColumns =
    "id, parent_id, path, depth, kind, display_name, unit, established_date, status, version, "
    "create_time_us, update_time_us, dissolved_date, dissolution_reason, merged_into";

[[noreturn]] void Fail(std::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "dj-bench-org-tree: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               status.ToString().c_str());
  std::exit(1);
}

void Must(const absl::Status& status, std::string_view what) {
  if (!status.ok()) {
    Fail(what, status);
  }
}

template <typename T>
T Must(absl::StatusOr<T> value, std::string_view what) {
  if (!value.ok()) {
    Fail(what, value.status());
  }
  return *std::move(value);
}

struct Options {
  std::string db;
  std::string redis;       // empty: the in-process cache (as dangjian runs)
  int64_t orgs = 100'000;  // the whole tree, root included
  int64_t city = 0;        // orgs in a city (its party committee included); 0: orgs / 20
  int64_t subtree = 0;     // orgs in the moved general branch; 0: city * 2 / 5
  int iterations = 50;
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  auto number = [&](int& i, int64_t* out) {
    if (i + 1 >= argc || !absl::SimpleAtoi(argv[i + 1], out) || *out < 0) {
      Fail(argv[i], absl::InvalidArgumentError("needs a non-negative number"));
    }
    ++i;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    int64_t n = 0;
    if (a == "--db" && i + 1 < argc) {
      o.db = argv[++i];
    } else if (a == "--redis" && i + 1 < argc) {
      o.redis = argv[++i];
    } else if (a == "--orgs") {
      number(i, &o.orgs);
    } else if (a == "--city") {
      number(i, &o.city);
    } else if (a == "--subtree") {
      number(i, &o.subtree);
    } else if (a == "--iterations") {
      number(i, &n);
      o.iterations = static_cast<int>(std::max<int64_t>(n, 1));
    } else {
      std::fprintf(stderr,
                   "usage: dj-bench-org-tree --db mysql://user:pass@host:port/db|sqlite:///file "
                   "[--redis redis://host:port/n] [--orgs 100000] [--city N] [--subtree N] "
                   "[--iterations 50]\n");
      std::exit(2);
    }
  }
  if (o.db.empty()) {
    Fail("--db", absl::InvalidArgumentError("required"));
  }
  if (o.city == 0) {
    o.city = o.orgs / 20;
  }
  if (o.subtree == 0) {
    o.subtree = o.city * 2 / 5;
  }
  // Three cities at least: one listed, one the subtree moves out of, one it moves into.
  if (o.subtree < 2 || o.city < 2 * o.subtree + 1 || o.orgs < 3 * o.city + 1) {
    Fail("sizes", absl::InvalidArgumentError(absl::StrCat(
                      "need subtree >= 2, city >= 2 * subtree + 1, orgs >= 3 * city + 1; got orgs ",
                      o.orgs, ", city ", o.city, ", subtree ", o.subtree)));
  }
  return o;
}

std::unique_ptr<db::Pool> OpenPool(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (absl::StartsWith(url, AV(kSqlite))) {
    return std::make_unique<db::Pool>(db::NewSqliteDriver({.path = url.substr(kSqlite.size())}),
                                      db::PoolOptions{.name = "bench", .size = 4});
  }
  auto parsed = Must(db::ParseMySqlUrl(url), "--db");
  return std::make_unique<db::Pool>(
      db::NewMySqlDriver({.url = parsed, .io_timeout = std::chrono::seconds(300)}),
      db::PoolOptions{.name = "bench", .size = 4});
}

// The tree, in the order it is inserted (every parent before its children), and the
// organizations the measurements use.
struct Tree {
  std::vector<OrgRow> rows;
  std::vector<size_t> cities;     // indexes of the party committees under the root
  std::vector<size_t> moveables;  // indexes of the general branches of `subtree` orgs
};

// Builds a tree of exactly `orgs` organizations: one work committee; cities (party committees)
// of `city` orgs, the last one taking what is left; in each city two general branches of
// `subtree` orgs when they fit, the rest as branches directly under the party committee; every
// branch has up to six party groups. Every placement is checked against the national structure
// rules, so the service would accept each row.
class TreeBuilder final {
 public:
  TreeBuilder(ids::IdGenerator& ids, int64_t now_us)
      : ids_(ids), now_us_(now_us), rules_(StructureRules::NationalDefaults()) {}

  Tree Build(const Options& o) {
    const size_t root = Add(std::nullopt, pb::WORK_COMMITTEE, "中共某省省直机关工作委员会");
    int64_t left = o.orgs - 1;
    for (int c = 1; left > 0; ++c) {
      const int64_t size = std::min(o.city, left);
      City(root, c, size, o.subtree);
      left -= size;
    }
    return std::move(tree_);
  }

 private:
  size_t Add(std::optional<size_t> parent, Kind kind, std::string name) {
    OrgRow row;
    row.id = ids_.Next();
    row.kind = kind;
    row.display_name = std::move(name);
    row.established_date = time::CivilDate{2019, 7, 1};
    row.status = pb::ACTIVE;
    row.version = 1;
    row.create_time_us = row.update_time_us = now_us_;
    std::optional<Kind> parent_kind;
    if (parent.has_value()) {
      const OrgRow& p = tree_.rows[*parent];
      parent_kind = p.kind;
      row.parent_id = p.id;
      row.depth = p.depth + 1;
      row.path = absl::StrCat(p.path, row.id, "/");
    } else {
      row.path = absl::StrCat("/", row.id, "/");
    }
    Must(CheckPlacement(rules_, parent_kind, kind, "kind", "parent"), "tree shape");
    tree_.rows.push_back(std::move(row));
    return tree_.rows.size() - 1;
  }

  void City(size_t root, int c, int64_t size, int64_t subtree) {
    const size_t pc = Add(root, pb::PARTY_COMMITTEE, absl::StrCat("第", c, "市市级机关党委"));
    tree_.cities.push_back(pc);
    int64_t left = size - 1;
    for (int g = 1; g <= 2 && left >= subtree; ++g) {
      const size_t gb = Add(pc, pb::GENERAL_BRANCH, absl::StrCat("第", c, "市第", g, "机关党总支"));
      tree_.moveables.push_back(gb);
      Branches(gb, subtree - 1);
      left -= subtree;
    }
    Branches(pc, left);
  }

  // Branches under `parent` with `orgs` organizations in all (groups included).
  void Branches(size_t parent, int64_t orgs) {
    for (int b = 1; orgs > 0; ++b) {
      const int64_t size = std::min(orgs, 1 + kGroupsPerBranch);
      const size_t branch = Add(parent, pb::BRANCH, absl::StrCat("第", b, "党支部"));
      for (int64_t g = 1; g < size; ++g) {
        Add(branch, pb::PARTY_GROUP, absl::StrCat("第", g, "党小组"));
      }
      orgs -= size;
    }
  }

  ids::IdGenerator& ids_;
  int64_t now_us_;
  StructureRules rules_;
  Tree tree_;
};

std::string InsertSql(size_t rows) {
  std::string sql =
      "INSERT INTO organizations (id, parent_id, path, depth, kind, display_name, unit, "
      "established_date, status, version, request_id, create_time_us, update_time_us) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    absl::StrAppend(&sql, i == 0 ? "" : ",", "(?,?,?,?,?,?,?,?,?,?,?,?,?)");
  }
  return sql;
}

// Setup only: multi-row INSERTs straight into the table, kRowsPerTransaction a transaction.
void Load(db::Pool& pool, const std::vector<OrgRow>& rows) {
  for (size_t begin = 0; begin < rows.size(); begin += kRowsPerTransaction) {
    const size_t end = std::min(rows.size(), begin + kRowsPerTransaction);
    Must(pool.Transact(
             [&](db::Connection& c) -> absl::Status {
               for (size_t from = begin; from < end; from += kInsertRows) {
                 const size_t to = std::min(end, from + kInsertRows);
                 std::vector<db::Value> params;
                 params.reserve((to - from) * 13);
                 for (size_t i = from; i < to; ++i) {
                   const OrgRow& o = rows[i];
                   params.insert(
                       params.end(),
                       {o.id, o.parent_id.has_value() ? db::Value(*o.parent_id) : db::Null(),
                        o.path, int64_t{o.depth}, std::string(KindName(o.kind)), o.display_name,
                        o.unit, time::ToIso(*o.established_date),
                        std::string(pb::OrganizationStatus_Name(o.status)), o.version, db::Null(),
                        o.create_time_us, o.update_time_us});
                 }
                 if (auto r = c.Execute(InsertSql(to - from), params); !r.ok()) {
                   return r.status();
                 }
               }
               return absl::OkStatus();
             },
             /*attempts=*/1),
         "loading the tree");
  }
}

double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

struct Stats {
  double median = 0;
  double p90 = 0;
};

Stats Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  };
  return {at(0.5), at(0.9)};
}

// The upper bound of the subtree range under `path`, as OrgStore computes it.
std::string Upper(const std::string& path) { return SubtreeUpperBound(path); }

// Every descendant of `name`, through the service, kPageSize a page; returns how many.
int64_t ListThroughService(OrgService& service, const auth::Principal& who,
                           const std::string& name) {
  pb::ListDescendantsRequest request;
  request.set_name(name);
  request.set_page_size(kPageSize);
  int64_t n = 0;
  for (;;) {
    auto page = Must(service.Descendants(who, request), "OrgService::Descendants");
    n += page.organizations_size();
    if (page.next_page_token().empty()) {
      return n;
    }
    request.set_page_token(page.next_page_token());
  }
}

// The statement OrgStore::ListDescendants issues; `limited` false: without LIMIT (all at once).
std::string ListSql(bool limited) {
  return absl::StrCat("SELECT ", AV(kColumns),
                      " FROM organizations WHERE path > ? AND path < ? ORDER BY path",
                      limited ? " LIMIT ?" : "");
}

// Raw SQL: every descendant of `path` in one statement, fetched fully.
int64_t ListRaw(db::Pool& pool, const std::string& path) {
  auto lease = Must(pool.Acquire(), "acquire");
  return static_cast<int64_t>(
      Must(lease->Exec(ListSql(false), {path, Upper(path)}), "raw listing").rows.size());
}

// Raw SQL: the same statement paged like the service (keyset on path, kPageSize a page).
int64_t ListRawPaged(db::Pool& pool, const std::string& path) {
  std::string after = path;
  int64_t n = 0;
  for (;;) {
    auto lease = Must(pool.Acquire(), "acquire");
    auto page = Must(lease->Exec(ListSql(true), {after, Upper(path), int64_t{kPageSize}}),
                     "raw paged listing");
    n += static_cast<int64_t>(page.rows.size());
    if (page.rows.size() < static_cast<size_t>(kPageSize)) {
      return n;
    }
    after = page.rows.back().Text(2);
  }
}

// Raw SQL: the UPDATEs OrgStore::MoveSubtree issues (paths and depths of the subtree, then the
// parent), in one transaction.
void MoveRaw(db::Pool& pool, const OrgRow& row, const OrgRow& from, const OrgRow& to,
             int64_t now_us) {
  const std::string old_path = absl::StrCat(from.path, row.id, "/");
  const std::string new_path = absl::StrCat(to.path, row.id, "/");
  Must(pool.Transact(
           [&](db::Connection& c) -> absl::Status {
             auto moved = c.Exec(
                 absl::StrCat(
                     "UPDATE organizations SET path = ", db::ReplacePrefixSql(c.dialect(), "path"),
                     ", depth = depth + ?, version = version + 1, update_time_us = ? "
                     "WHERE path >= ? AND path < ?"),
                 {new_path, static_cast<int64_t>(old_path.size()) + 1,
                  int64_t{to.depth - from.depth}, now_us, old_path, Upper(old_path)});
             if (!moved.ok()) {
               return moved.status();
             }
             return c.Exec("UPDATE organizations SET parent_id = ? WHERE id = ?", {to.id, row.id})
                 .status();
           },
           /*attempts=*/1),
       "raw move");
}

void MoveThroughService(OrgService& service, const auth::Principal& who, const OrgRow& row,
                        const OrgRow& to) {
  pb::MoveOrganizationRequest request;
  request.set_name(rpc::FormatName("organizations", row.id));
  request.set_new_parent(rpc::FormatName("organizations", to.id));
  auto moved = Must(service.Move(who, request), "OrgService::Move");
  if (!absl::StartsWith(moved.path(), to.path)) {
    Fail("OrgService::Move", absl::InternalError("the moved organization is not under the target"));
  }
}

int64_t Count(db::Pool& pool, const std::string& path) {
  auto lease = Must(pool.Acquire(), "acquire");
  return Must(lease->Exec("SELECT COUNT(*) FROM organizations WHERE path >= ? AND path < ?",
                          {path, Upper(path)}),
              "count")
      .rows[0]
      .Int(0);
}

// The database's plan for `sql`, one line per row of its EXPLAIN.
void Explain(db::Pool& pool, std::string_view label, const std::string& sql,
             std::initializer_list<db::Value> params) {
  auto lease = Must(pool.Acquire(), "acquire");
  const bool sqlite = pool.dialect() == db::Dialect::kSqlite;
  auto plan = lease->Exec(absl::StrCat(sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ", sql), params);
  if (!plan.ok()) {
    std::printf("  plan of %.*s: (EXPLAIN failed: %s)\n", static_cast<int>(label.size()),
                label.data(), plan.status().ToString().c_str());
    return;
  }
  for (const db::Row& r : plan->rows) {
    std::vector<std::string> cells;
    // SQLite: only the detail column; MySQL: every non-NULL column (type, key, rows, Extra).
    for (size_t i = sqlite ? r.values.size() - 1 : 0; i < r.values.size(); ++i) {
      if (!r.IsNull(i)) {
        cells.push_back(r.Text(i));
      }
    }
    std::printf("  plan of %.*s: %s\n", static_cast<int>(label.size()), label.data(),
                absl::StrJoin(cells, " | ").c_str());
  }
}

void PrintRow(std::string_view operation, std::string_view database, const Stats& dj,
              const Stats& raw) {
  std::printf("| %.*s | %.*s | %.2f / %.2f | %.2f / %.2f | %.2f |\n",
              static_cast<int>(operation.size()), operation.data(),
              static_cast<int>(database.size()), database.data(), dj.median, dj.p90, raw.median,
              raw.p90, raw.median > 0 ? dj.median / raw.median : 0.0);
}

int Run(const Options& o) {
  auto pool = OpenPool(o.db);
  const bool sqlite = pool->dialect() == db::Dialect::kSqlite;
  const std::string engine = sqlite ? "SQLite" : "MariaDB";
  const std::string database =
      absl::StrCat(engine, o.redis.empty() ? ", in-process cache" : " + Redis cache");
  Must(pool->WaitUntilReachable(std::chrono::seconds(30)), "connecting");
  Must(db::Migrate(*pool, Schema(pool->dialect()), "org"), "org migrations");
  Must(db::Migrate(*pool, audit::Schema(pool->dialect()), "audit"), "audit migrations");
  Must(db::Migrate(*pool, events::Schema(pool->dialect()), "events"), "events migrations");
  if (Count(*pool, "/") != 0) {
    Fail("--db", absl::FailedPreconditionError("organizations is not empty; give a fresh "
                                               "database"));
  }

  ids::IdGenerator ids(ids::IdGenerator::DefaultNodeId());
  Tree tree = TreeBuilder(ids, time::NowMicros()).Build(o);
  int32_t deepest = 0;
  for (const OrgRow& r : tree.rows) {
    deepest = std::max(deepest, r.depth);
  }
  auto load_start = Clock::now();
  Load(*pool, tree.rows);
  const double load_ms = Ms(load_start);
  const int64_t loaded = Count(*pool, "/");
  std::printf(
      "%s: loaded %lld organizations in %d levels in %.1f s (setup, not the service: "
      "multi-row INSERTs of %zu rows straight into organizations, %zu rows a "
      "transaction); SELECT COUNT(*) = %lld\n",
      database.c_str(), static_cast<long long>(tree.rows.size()), deepest + 1, load_ms / 1000,
      kInsertRows, kRowsPerTransaction, static_cast<long long>(loaded));
  if (loaded != static_cast<int64_t>(tree.rows.size())) {
    Fail("loading the tree", absl::InternalError("row count differs"));
  }

  auto cache = Must(cache::NewCache(o.redis), "--redis");
  auto internal_auth = Must(auth::InternalAuth::Create(std::string(32, 's')), "auth");
  OrgService service(*pool, cache.get(), ids, internal_auth, std::string(32, 'k'));
  // A move invalidates the cache entry of every organization it moves: with Redis, one DEL each.
  // The same service over an in-process cache shows what those round trips cost.
  struct Mover {
    std::string database;
    OrgService* service;
    std::vector<double> ms;
  };
  std::vector<Mover> movers = {{database, &service, {}}};
  std::unique_ptr<cache::Cache> memory;
  std::unique_ptr<OrgService> over_memory;
  if (!o.redis.empty()) {
    memory = cache::NewMemoryCache();
    over_memory =
        std::make_unique<OrgService>(*pool, memory.get(), ids, internal_auth, std::string(32, 'k'));
    movers.push_back({absl::StrCat(engine, ", in-process cache"), over_memory.get(), {}});
  }
  const OrgRow& root = tree.rows.front();
  // A committee administrator scoped to the province: every call is authorized like a real one.
  const auth::Principal who{.subject = "accounts/1",
                            .roles = {"committee_admin"},
                            .scope_org = root.id,
                            .username = "bench"};

  const OrgRow& city = tree.rows[tree.cities[0]];
  const std::string city_name = rpc::FormatName("organizations", city.id);
  const int64_t city_descendants = Count(*pool, city.path) - 1;
  // The first general branch of the second city moves to the third city's party committee.
  const OrgRow* moving = nullptr;
  for (size_t i : tree.moveables) {
    if (tree.rows[i].parent_id == tree.rows[tree.cities[1]].id) {
      moving = &tree.rows[i];
      break;
    }
  }
  if (moving == nullptr) {
    Fail("tree shape", absl::InternalError("the second city has no general branch to move"));
  }
  const OrgRow& home = tree.rows[tree.cities[1]];
  const OrgRow& away = tree.rows[tree.cities[2]];
  const int64_t subtree_size = Count(*pool, moving->path);
  std::printf(
      "%s: city subtree %lld descendants (listed %d a page); moved subtree %lld "
      "organizations (a general branch, between two party committees); %d iterations\n",
      database.c_str(), static_cast<long long>(city_descendants), kPageSize,
      static_cast<long long>(subtree_size), o.iterations);

  Explain(*pool, "the listing", ListSql(true), {city.path, Upper(city.path), int64_t{kPageSize}});
  Explain(*pool, "the move's subtree ids",
          "SELECT id FROM organizations WHERE path >= ? AND path < ? ORDER BY id",
          {moving->path, Upper(moving->path)});
  Explain(
      *pool, "the move's UPDATE",
      absl::StrCat(
          "UPDATE organizations SET path = ", db::ReplacePrefixSql(pool->dialect(), "path"),
          ", depth = depth + ?, version = version + 1, update_time_us = ? "
          "WHERE path >= ? AND path < ?"),
      {std::string("/x/"), int64_t{1}, int64_t{0}, int64_t{0}, moving->path, Upper(moving->path)});

  // (a) listing; one untimed round first, then the three interleaved, so drift on a shared
  // machine hits each alike.
  std::vector<double> list_dj, list_raw, list_raw_paged;
  for (int i = 0; i <= o.iterations; ++i) {
    auto t = Clock::now();
    const int64_t a = ListThroughService(service, who, city_name);
    const double dj_ms = Ms(t);
    t = Clock::now();
    const int64_t b = ListRaw(*pool, city.path);
    const double raw_ms = Ms(t);
    t = Clock::now();
    const int64_t c = ListRawPaged(*pool, city.path);
    const double paged_ms = Ms(t);
    if (a != city_descendants || b != city_descendants || c != city_descendants) {
      Fail("listing", absl::InternalError(absl::StrCat("listed ", a, " / ", b, " / ", c,
                                                       ", expected ", city_descendants)));
    }
    if (i > 0) {
      list_dj.push_back(dj_ms);
      list_raw.push_back(raw_ms);
      list_raw_paged.push_back(paged_ms);
    }
  }

  // (b) moving there and back, each move timed on its own.
  std::vector<double> move_raw;
  for (int i = 0; i <= o.iterations; ++i) {
    for (Mover& m : movers) {
      auto t = Clock::now();
      MoveThroughService(*m.service, who, *moving, away);
      const double there = Ms(t);
      t = Clock::now();
      MoveThroughService(*m.service, who, *moving, home);
      const double back = Ms(t);
      if (i > 0) {
        m.ms.insert(m.ms.end(), {there, back});
      }
    }
    auto t = Clock::now();
    MoveRaw(*pool, *moving, home, away, time::NowMicros());
    const double raw_there = Ms(t);
    t = Clock::now();
    MoveRaw(*pool, *moving, away, home, time::NowMicros());
    const double raw_back = Ms(t);
    if (i > 0) {
      move_raw.insert(move_raw.end(), {raw_there, raw_back});
    }
  }
  // Everything is back where it started, whole.
  if (Count(*pool, moving->path) != subtree_size || Count(*pool, "/") != loaded ||
      Count(*pool, absl::StrCat(away.path, moving->id, "/")) != 0) {
    Fail("after the moves", absl::InternalError("the subtree is not back in one piece"));
  }

  std::printf(
      "\n| operation | database | dangjian ms (median / p90) | raw SQL ms (median / p90) "
      "| ratio |\n|---|---|---:|---:|---:|\n");
  const std::string list_op = absl::StrCat("list a city subtree (", city_descendants, " orgs)");
  PrintRow(absl::StrCat(list_op, " vs one SELECT"), database, Summarize(list_dj),
           Summarize(list_raw));
  PrintRow(absl::StrCat(list_op, " vs the SELECT paged by ", kPageSize), database,
           Summarize(list_dj), Summarize(list_raw_paged));
  for (const Mover& m : movers) {
    PrintRow(absl::StrCat("move a subtree (", subtree_size, " orgs)"), m.database, Summarize(m.ms),
             Summarize(move_raw));
  }
  return 0;
}

}  // namespace
}  // namespace dj::org

int main(int argc, char** argv) {
  dj::log::Init("dj-bench-org-tree", "warn");  // the figures, not the migrations' log lines
  return dj::org::Run(dj::org::ParseArgs(argc, argv));
}

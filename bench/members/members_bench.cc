// dj-bench-members: the member benchmark's own parts (bench/members/run drives the suite):
//   roster     --members N --first K --out FILE      a branch roster as .xlsx (import headers)
//   raw-insert --db URL --members N --first K --org-id ID --org-path P
//              the baseline: the same kind of rows, prepared beforehand, inserted by multi-row
//              INSERTs in one transaction; prints the seconds the INSERTs took
//   generate   --db URL --members N --first K --orgs M --root-path P
//              N members straight into the database over M synthetic organizations under P
//   ids        --first K --count C                   the ID numbers of persons K..K+C-1
//   sql-search --db URL --first K --count C --threads T
//              the baseline of a search by ID number: the blind-index SELECT, T connections
// Personal data is sealed with the keys of DJ_PII_KEYS / DJ_PII_INDEX_KEY, as the service's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/pii.h"
#include "common/db/mysql_driver.h"
#include "common/db/pool.h"
#include "common/db/sqlite_driver.h"
#include "common/db/url.h"
#include "services/member/src/id_number.h"
#include "services/member/src/member_export.h"
#include "services/member/src/member_store.h"

namespace {

using dj::member::MemberRow;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "dj-bench-members: %s\n", what.c_str());
  std::exit(1);
}

std::map<std::string, std::string> Flags(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 2; i + 1 < argc; i += 2) {
    out[std::string(argv[i]).substr(2)] = argv[i + 1];
  }
  return out;
}

int64_t Int(const std::map<std::string, std::string>& f, const std::string& name, int64_t def) {
  auto it = f.find(name);
  int64_t v = def;
  if (it != f.end() && !absl::SimpleAtoi(it->second, &v)) {
    Fail("--" + name + " is not a number");
  }
  return v;
}

// Person k: a valid, unique ID number (region and birth date from k, sequence k % 1000).
std::string IdNumber(int64_t k) {
  const int64_t day = k / 1000;
  const dj::time::CivilDate birth{static_cast<int32_t>(1950 + day / 336 % 50),
                                  static_cast<int32_t>(1 + day / 28 % 12),
                                  static_cast<int32_t>(1 + day % 28)};
  const std::string region = absl::StrCat(320000 + day / 16800 % 10000);
  return dj::member::MakeIdNumber(region, birth, static_cast<int32_t>(k % 1000));
}

std::string Phone(int64_t k) { return absl::StrCat(13'000'000'000 + k); }
std::string Name(int64_t k) {
  static const char* const kSurnames[] = {"张", "王", "李", "赵", "陈", "刘", "杨", "黄"};
  static const char* const kGiven[] = {"伟", "芳", "敏", "静", "磊", "洋", "勇", "艳", "杰"};
  return absl::StrCat(kSurnames[k % 8], kGiven[k / 8 % 9], kGiven[k / 72 % 9]);
}

dj::crypto::PiiVault Vault() {
  const char* keys = std::getenv("DJ_PII_KEYS");
  const char* index = std::getenv("DJ_PII_INDEX_KEY");
  if (keys == nullptr || index == nullptr) {
    Fail("set DJ_PII_KEYS and DJ_PII_INDEX_KEY as the service has them");
  }
  auto parsed = dj::crypto::ParsePiiKeys(keys);
  if (!parsed.ok()) {
    Fail(std::string(parsed.status().message()));
  }
  auto vault = dj::crypto::PiiVault::Create(*parsed, index);
  if (!vault.ok()) {
    Fail(std::string(vault.status().message()));
  }
  return *std::move(vault);
}

std::unique_ptr<dj::db::Pool> Open(const std::string& url, int size) {
  std::unique_ptr<dj::db::Driver> driver;
  if (url.starts_with("sqlite://")) {
    driver = dj::db::NewSqliteDriver({.path = url.substr(9)});
  } else {
    auto parsed = dj::db::ParseMySqlUrl(url);
    if (!parsed.ok()) {
      Fail(std::string(parsed.status().message()));
    }
    driver = dj::db::NewMySqlDriver({.url = *parsed});
  }
  return std::make_unique<dj::db::Pool>(std::move(driver),
                                        dj::db::PoolOptions{.name = "bench", .size = size});
}

// A full member's row as the service writes it, personal data sealed.
MemberRow Row(const dj::crypto::PiiVault& vault, int64_t k, int64_t id, int64_t org,
              const std::string& path) {
  MemberRow m;
  m.id = id;
  m.organization_id = org;
  m.org_path = path;
  m.display_name = Name(k);
  m.gender = 1 + static_cast<int32_t>(k % 2);
  m.ethnicity = "汉族";
  const std::string number = IdNumber(k);
  m.birth_date = dj::member::FactsOf(number).birth_date;
  const std::string name = absl::StrCat("members/", id);
  m.id_number = {*vault.Seal(number, name + "/id_number"), vault.BlindIndex("id_number", number),
                 dj::member::MaskIdNumber(number)};
  m.phone = {*vault.Seal(Phone(k), name + "/phone"), vault.BlindIndex("phone", Phone(k)),
             dj::member::MaskPhone(Phone(k))};
  m.pii_key_id = vault.current_key_id();
  m.category = 1;
  m.stage = 5;
  m.status = 1;
  m.join_date = dj::time::CivilDate{2000 + static_cast<int32_t>(k % 20), 7, 1};
  m.full_member_date = dj::time::CivilDate{2001 + static_cast<int32_t>(k % 20), 7, 1};
  m.create_time_us = m.update_time_us = 1;
  return m;
}

int Roster(const std::map<std::string, std::string>& f) {
  const int64_t n = Int(f, "members", 6400);
  const int64_t first = Int(f, "first", 1);
  dj::member::Sheet sheet{.name = "党员名册",
                          .header = {"姓名", "身份证号", "手机号", "民族", "学历", "工作单位",
                                     "职务", "人员类别", "党员类别", "入党日期", "转正日期"}};
  for (int64_t k = first; k < first + n; ++k) {
    sheet.rows.push_back({Name(k), IdNumber(k), Phone(k), "汉族", "大学本科", "启东市财政局",
                          "科员", "在职", "正式党员", absl::StrCat(2000 + k % 20, "-07-01"),
                          absl::StrCat(2001 + k % 20, "-07-01")});
  }
  auto bytes = dj::member::WriteXlsx(sheet);
  if (!bytes.ok()) {
    Fail(std::string(bytes.status().message()));
  }
  std::ofstream(f.at("out"), std::ios::binary) << *bytes;
  return 0;
}

int RawInsert(const std::map<std::string, std::string>& f) {
  const dj::crypto::PiiVault vault = Vault();
  auto pool = Open(f.at("db"), 1);
  const int64_t n = Int(f, "members", 6400);
  const int64_t first = Int(f, "first", 1);
  const int64_t org = Int(f, "org-id", 1);
  std::vector<MemberRow> rows;
  for (int64_t k = first; k < first + n; ++k) {
    rows.push_back(Row(vault, k, 9'000'000'000'000 + k, org, f.at("org-path")));
  }
  const auto start = Clock::now();
  absl::Status s = pool->Transact(
      [&](dj::db::Connection& c) { return dj::member::MemberStore::InsertMany(c, rows); });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!s.ok()) {
    Fail(std::string(s.message()));
  }
  std::printf("%.3f\n", seconds);
  return 0;
}

int Generate(const std::map<std::string, std::string>& f) {
  const dj::crypto::PiiVault vault = Vault();
  auto pool = Open(f.at("db"), 1);
  const int64_t n = Int(f, "members", 1'000'000);
  const int64_t first = Int(f, "first", 1);
  const int64_t orgs = std::max<int64_t>(1, Int(f, "orgs", 20'000));
  const std::string root = f.at("root-path");
  constexpr int64_t kBatch = 2000;
  const auto start = Clock::now();
  for (int64_t begin = first; begin < first + n; begin += kBatch) {
    std::vector<MemberRow> rows;
    for (int64_t k = begin; k < std::min(first + n, begin + kBatch); ++k) {
      const int64_t org = 8'000'000'000'000 + k % orgs;
      rows.push_back(Row(vault, k, 7'000'000'000'000 + k, org, absl::StrCat(root, org, "/")));
    }
    absl::Status s = pool->Transact(
        [&](dj::db::Connection& c) { return dj::member::MemberStore::InsertMany(c, rows); });
    if (!s.ok()) {
      Fail(std::string(s.message()));
    }
  }
  std::printf("generated %lld members in %.1f s\n", static_cast<long long>(n),
              std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

int Ids(const std::map<std::string, std::string>& f) {
  const int64_t first = Int(f, "first", 1);
  for (int64_t k = first; k < first + Int(f, "count", 1000); ++k) {
    std::printf("%s\n", IdNumber(k).c_str());
  }
  return 0;
}

int SqlSearch(const std::map<std::string, std::string>& f) {
  const dj::crypto::PiiVault vault = Vault();
  const int threads = static_cast<int>(Int(f, "threads", 4));
  auto pool = Open(f.at("db"), threads);
  const int64_t first = Int(f, "first", 1);
  const int64_t span = Int(f, "span", 1'000'000);
  const int64_t count = Int(f, "count", 20'000);
  std::vector<std::vector<double>> latencies(threads);
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int64_t i = t; i < count; i += threads) {
        const std::string index =
            vault.BlindIndex("id_number", IdNumber(first + (i * 7919) % span));
        const auto begin = Clock::now();
        auto found = pool->Run([&](dj::db::Connection& c) {
          return dj::member::MemberStore::FindByIdNumberIndex(c, index, "");
        });
        if (!found.ok() || found->size() != 1) {
          Fail("a generated member was not found");
        }
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
      }
    });
  }
  for (std::thread& w : workers) {
    w.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) {
    all.insert(all.end(), l.begin(), l.end());
  }
  std::sort(all.begin(), all.end());
  std::printf("%.0f %.3f %.3f\n", static_cast<double>(all.size()) / seconds, all[all.size() / 2],
              all[all.size() * 99 / 100]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Fail("usage: dj-bench-members roster|raw-insert|generate|ids|sql-search --flag value ...");
  }
  const std::string mode = argv[1];
  const auto flags = Flags(argc, argv);
  if (mode == "roster") return Roster(flags);
  if (mode == "raw-insert") return RawInsert(flags);
  if (mode == "generate") return Generate(flags);
  if (mode == "ids") return Ids(flags);
  if (mode == "sql-search") return SqlSearch(flags);
  Fail("unknown mode " + mode);
}

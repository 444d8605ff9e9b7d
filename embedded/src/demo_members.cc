// The demo city's members (seed 003: 6,423), registered the way a branch would register them: one
// spreadsheet per branch through the member service's import (validation, sealing, audit and
// events all included), then a few of the cases a committee looks for — members lost contact, a
// transfer pending and one overdue, dues declared and paid in one branch with a member six months
// in arrears, 50-year members (born early enough, joined before July 1976). Everything is derived
// deterministically from the branch's position; every write carries a fixed request_id or is
// refused as already done, so a load cut short is completed by the next start.
#include "embedded/src/demo_members.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "services/member/src/dues.h"
#include "services/member/src/id_number.h"

namespace dj::embedded {
namespace {

namespace opb = dangjian::org::v1;
namespace mpb = dangjian::member::v1;

constexpr int kDemoMembers = 6423;  // seed 003: "党员6423名"
constexpr std::string_view kRootName = "中共启东市委市级机关工作委员会";
constexpr std::string_view kRegion = "320681";  // 启东市

const char* const kSurnames[] = {"张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴",
                                 "徐", "孙", "朱", "马", "胡", "郭", "林", "何", "高", "罗",
                                 "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
                                 "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
                                 "施", "沈", "顾", "陆", "倪", "季", "龚", "茅", "瞿", "秦"};
const char* const kGiven[] = {
    "建国", "建华", "志强", "秀英", "桂英", "海燕", "丽娟", "伟",   "芳",   "敏",   "静",   "磊",
    "洋",   "勇",   "艳",   "杰",   "娟",   "涛",   "明",   "超",   "霞",   "平",   "刚",   "玲",
    "红梅", "晓东", "春燕", "卫东", "文博", "思远", "子涵", "雨桐", "浩然", "欣怡", "宇航", "佳琪",
    "国庆", "爱华", "振兴", "立新", "金凤", "玉兰", "德明", "永刚", "晨曦"};
const char* const kJobs[] = {"科员", "副科长", "科长", "副主任", "主任", "办事员", "副局长"};

// A deterministic generator per branch: the standard fixes mt19937's sequence, and only its raw
// output is used (distributions differ between libraries).
class Draw {
 public:
  explicit Draw(uint32_t seed) : gen_(seed) {}
  int Between(int lo, int hi) { return lo + static_cast<int>(gen_() % (hi - lo + 1)); }
  bool Percent(int p) { return Between(0, 99) < p; }

 private:
  std::mt19937 gen_;
};

std::string Iso(const time::CivilDate& d) { return time::ToIso(d); }

// One branch's roster as its secretary keeps it (CSV, UTF-8), the stages realistic: most full
// members, some probationary (admitted within the last year), a few on the way.
std::string Roster(int branch, int members, int* next_person, const time::CivilDate& today,
                   std::string_view work_unit) {
  Draw draw(static_cast<uint32_t>(20'181'001 + branch));
  std::string csv =
      "姓名,身份证号,手机号,民族,学历,工作单位,职务,人员类别,党员类别,申请入党日期,"
      "确定积极分子日期,确定发展对象日期,入党日期,转正日期,党务干部\n";
  for (int i = 0; i < members; ++i) {
    const int person = (*next_person)++;
    // Born 1938-2002; 50-year members are among the oldest.
    const time::CivilDate birth{draw.Between(1938, 2002), draw.Between(1, 12), draw.Between(1, 28)};
    const std::string id = member::MakeIdNumber(kRegion, birth, person % 1000);
    const std::string name =
        absl::StrCat(kSurnames[draw.Between(0, 49)], kGiven[draw.Between(0, 44)]);
    const int age = today.year - birth.year;
    const char* category = age >= 60 ? "离退休" : "在职";
    std::string stage = "正式党员";
    std::string applied, activist, candidate, joined, full;
    const int roll = draw.Between(0, 99);
    const time::CivilDate adult{birth.year + 19, birth.month, birth.day};
    if (roll < 90 || age > 45) {
      // Joined at 22-40 (no later than two years ago), full a year later.
      const int join_year = std::min(birth.year + draw.Between(22, 40), today.year - 2);
      joined = Iso({std::max(join_year, adult.year + 1), draw.Between(1, 12), draw.Between(1, 28)});
      full = Iso({std::stoi(joined.substr(0, 4)) + 1, std::stoi(joined.substr(5, 2)),
                  std::stoi(joined.substr(8, 2))});
    } else if (roll < 95) {
      stage = "预备党员";
      joined =
          Iso({today.year - (today.month > 6 ? 0 : 1), draw.Between(1, 6), draw.Between(1, 28)});
    } else if (roll < 97) {
      stage = "发展对象";
      applied = Iso({today.year - 3, 3, 1});
      activist = Iso({today.year - 2, 4, 1});
      candidate = Iso({today.year - 1, 5, draw.Between(1, 28)});
    } else if (roll < 99) {
      stage = "入党积极分子";
      applied = Iso({today.year - 1, 2, 1});
      activist = Iso({today.year - 1, 9, draw.Between(1, 28)});
    } else {
      stage = "入党申请人";
      applied = Iso({today.year, 1, draw.Between(1, 28)});
    }
    const char* education[] = {"大学本科", "大学本科", "硕士研究生", "大专", "高中"};
    absl::StrAppend(&csv, name, ",", id, ",", "139", 10'000'000 + person * 7 % 90'000'000, ",",
                    draw.Percent(97) ? "汉族" : "回族", ",", education[draw.Between(0, 4)], ",",
                    AV(work_unit), ",", kJobs[draw.Between(0, 6)], ",", category, ",", stage, ",",
                    applied, ",", activist, ",", candidate, ",", joined, ",", full, ",",
                    i == 0 ? "是" : "否", "\n");
  }
  return csv;
}

// OK, or an answer that says the write was done before (a load completed by a later start).
absl::Status DoneBefore(absl::Status s) {
  if (s.code() == absl::StatusCode::kAlreadyExists ||
      s.code() == absl::StatusCode::kFailedPrecondition ||
      s.code() == absl::StatusCode::kInvalidArgument) {
    return absl::OkStatus();
  }
  return s;
}

}  // namespace

absl::StatusOr<MemberDemoSummary> LoadDemoMembers(org::OrgServer& org,
                                                  member::MemberInstance& members) {
  const auth::Principal who = auth::SystemPrincipal();
  MemberDemoSummary summary;
  ASSIGN_OR_RETURN(const opb::ListOrganizationsResponse roots,
                   org.organizations().List(who, opb::ListOrganizationsRequest()));
  std::string root;
  for (const opb::Organization& o : roots.organizations()) {
    if (o.display_name() == kRootName) {
      root = o.name();
    }
  }
  if (root.empty()) {
    return summary;  // not the demo city: nothing to add
  }
  std::vector<opb::Organization> branches;
  opb::ListDescendantsRequest sub;
  sub.set_name(root);
  sub.set_page_size(500);
  for (;;) {
    ASSIGN_OR_RETURN(const opb::ListDescendantsResponse page,
                     org.organizations().Descendants(who, sub));
    for (const opb::Organization& o : page.organizations()) {
      if (o.kind() == opb::BRANCH) {
        branches.push_back(o);
      }
    }
    if (page.next_page_token().empty()) {
      break;
    }
    sub.set_page_token(page.next_page_token());
  }
  if (branches.empty()) {
    return summary;
  }
  // Branch sizes between 20 and 70, scaled to seed 003's total.
  std::vector<int> weights;
  int weight_sum = 0;
  for (size_t i = 0; i < branches.size(); ++i) {
    weights.push_back(20 + static_cast<int>((i * 37) % 51));
    weight_sum += weights.back();
  }
  const time::CivilDate today = members.records().rules().TodayDate();
  int assigned = 0;
  int next_person = 1;
  for (size_t i = 0; i < branches.size(); ++i) {
    const int count =
        i + 1 == branches.size() ? kDemoMembers - assigned : weights[i] * kDemoMembers / weight_sum;
    assigned += count;
    mpb::ImportMembersRequest r;
    r.set_organization(branches[i].name());
    r.set_request_id(absl::StrCat("dangjian-demo-members-", i));
    r.set_file_name("roster.csv");
    r.set_file(Roster(static_cast<int>(i), count, &next_person, today, branches[i].display_name()));
    auto imported = members.records().Import(who, r);
    if (!imported.ok()) {
      return absl::Status(
          imported.status().code(),
          absl::StrCat("demo members of ", branches[i].name(), ": ", imported.status().message()));
    }
    summary.members += imported->imported();
  }
  summary.loaded = true;

  // The cases the committee's lists show, in the first branches.
  auto roster = [&](size_t branch) -> absl::StatusOr<std::vector<mpb::Member>> {
    mpb::ListMembersRequest list;
    list.set_organization(branches[branch % branches.size()].name());
    list.set_direct_only(true);
    list.set_stage(mpb::FULL);
    list.set_page_size(50);
    ASSIGN_OR_RETURN(const mpb::ListMembersResponse page, members.records().List(who, list));
    return std::vector<mpb::Member>(page.members().begin(), page.members().end());
  };
  ASSIGN_OR_RETURN(const std::vector<mpb::Member> first, roster(0));
  ASSIGN_OR_RETURN(const std::vector<mpb::Member> second, roster(1));
  if (first.size() < 8 || second.size() < 4) {
    return summary;
  }
  // Two members lost contact for half a year.
  for (size_t k = 0; k < 2; ++k) {
    mpb::ChangeMemberStatusRequest lost;
    lost.set_name(second[k].name());
    lost.set_status(mpb::LOST_CONTACT);
    *lost.mutable_date() = time::ToProto(*time::AddMonths(today, -7));
    lost.set_reason("外出务工，半年以上联系不上");
    RETURN_IF_ERROR(DoneBefore(members.records().ChangeStatus(who, lost).status()));
  }
  // A transfer pending, one past its letter's validity.
  for (size_t k = 0; k < 2; ++k) {
    mpb::CreateTransferRequest t;
    t.set_request_id(absl::StrCat("dangjian-demo-transfer-", k));
    t.mutable_transfer()->set_member(second[2 + k].name());
    t.mutable_transfer()->set_to_organization(branches[(k + 2) % branches.size()].name());
    *t.mutable_transfer()->mutable_issue_date() =
        time::ToProto(*time::AddMonths(today, k == 0 ? 0 : -4));
    t.mutable_transfer()->set_note(k == 0 ? "工作调动" : "退休迁居");
    RETURN_IF_ERROR(DoneBefore(members.transfers().Create(who, t).status()));
    ++summary.transfers;
  }
  // Dues in the first branch: bases declared from six months back, every month paid up to last
  // month, but for one member who has paid nothing since (on the six-month arrears list).
  const member::YearMonth current = member::MonthOf(today);
  const member::YearMonth from = member::AddMonths(current, -6);
  for (size_t k = 0; k < first.size(); ++k) {
    const std::string dues = first[k].name() + "/dues";
    mpb::DeclareDuesBaseRequest declare;
    declare.set_parent(dues);
    declare.mutable_declaration()->set_from_month(member::ToText(from));
    declare.mutable_declaration()->set_base_fen(first[k].category() == mpb::RETIRED
                                                    ? 420000 + 1000 * static_cast<int64_t>(k)
                                                    : 560000 + 5000 * static_cast<int64_t>(k));
    RETURN_IF_ERROR(DoneBefore(members.dues().Declare(who, declare).status()));
    mpb::GetMemberDuesRequest get;
    get.set_name(dues);
    ASSIGN_OR_RETURN(const mpb::MemberDues owed, members.dues().MemberDuesOf(who, get));
    mpb::PayDuesRequest pay;
    pay.set_parent(dues);
    pay.set_request_id(absl::StrCat("dangjian-demo-dues-", k));
    if (k == 0) {
      continue;  // the member in arrears
    }
    int64_t amount = 0;
    for (const mpb::DuesMonth& m : owed.months()) {
      auto month = member::ParseYearMonth(m.month(), "month");
      if (!month.ok() || m.paid() || m.due_fen() == 0 || *month >= current) {
        continue;
      }
      pay.mutable_payment()->add_months(m.month());
      amount += m.due_fen();
    }
    if (pay.payment().months_size() == 0) {
      continue;
    }
    pay.mutable_payment()->set_amount_fen(amount);
    RETURN_IF_ERROR(DoneBefore(members.dues().Pay(who, pay).status()));
    ++summary.dues_payments;
  }
  return summary;
}

}  // namespace dj::embedded

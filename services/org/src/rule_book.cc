#include "services/org/src/rule_book.h"

namespace dj::org {

namespace pb = dangjian::org::v1;

RuleBook::RuleBook(db::Pool& pool, std::function<int64_t()> now_us, std::chrono::seconds refresh)
    : book_(
          pool, "structure", NationalDefaultVersion(),
          [](std::string_view body) -> absl::StatusOr<StructureRules> {
            auto proto = RuleSetFromJson(body);
            if (!proto.ok()) {
              return proto.status();
            }
            return RulesFromProto(*proto);
          },
          std::move(now_us), refresh) {}

absl::StatusOr<RuleSetVersion> RuleBook::Add(db::Connection& c, const pb::StructureRuleSet& in,
                                             const std::string& creator) {
  auto rules = RulesFromProto(in);
  if (!rules.ok()) {
    return rules.status();
  }
  // The body as stored is the whole version's proto JSON, as before (readable by people
  // auditing the database): its version and creator are filled in from what was stored.
  RuleSetVersion draft{.version = 0, .note = in.note(), .rules = *rules, .creator = creator};
  pb::StructureRuleSet body = ToProto(draft);
  body.clear_version();
  *body.mutable_effective_date() = in.effective_date();
  return book_.Add(c, *rules, RuleSetJson(body),
                   in.has_effective_date() ? &in.effective_date() : nullptr, in.note(), creator);
}

}  // namespace dj::org

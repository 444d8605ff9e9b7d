#include "services/org/src/rule_set_service.h"

#include "absl/strings/str_cat.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/runtime/status_macros.h"
#include "services/org/src/org_service.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

absl::Status Allowed(const auth::Principal& who, std::string_view action, std::string* why) {
  return rules::AuthorizeRuleSets(who, action, why);
}

}  // namespace

RuleSetService::RuleSetService(RuleBook& book, db::Pool& pool, const auth::InternalAuth& auth,
                               std::string audit_key)
    : book_(book), auth_(auth), audit_(pool, std::move(audit_key), "auditLogs/org") {}

absl::StatusOr<pb::StructureRuleSet> RuleSetService::InForce(
    const auth::Principal& who, const pb::GetStructureRulesRequest& request) {
  RETURN_IF_ERROR(Allowed(who, "read", nullptr));
  time::CivilDate date = book_.TodayDate();
  if (request.has_date()) {
    auto d = time::FromProto(request.date(), "date");
    if (!d.ok()) {
      return d.status();
    }
    date = *d;
  }
  auto versions = book_.Versions();
  if (!versions.ok()) {
    return versions.status();
  }
  for (const RuleSetVersion& v : *versions) {
    if (v.effective_date <= date) {
      return ToProto(v);
    }
  }
  return ToProto(NationalDefaultVersion());
}

absl::StatusOr<pb::ListStructureRuleSetsResponse> RuleSetService::List(const auth::Principal& who) {
  RETURN_IF_ERROR(Allowed(who, "read", nullptr));
  auto versions = book_.Versions();
  if (!versions.ok()) {
    return versions.status();
  }
  pb::ListStructureRuleSetsResponse out;
  for (const RuleSetVersion& v : *versions) {
    *out.add_rule_sets() = ToProto(v);
  }
  return out;
}

absl::StatusOr<pb::StructureRuleSet> RuleSetService::Create(
    const auth::Principal& who, const pb::CreateStructureRuleSetRequest& request) {
  RuleSetVersion added;
  audit::Entry entry = audit::Recorder::For(who, "rule_sets.create", "ruleSets/structure", "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    RETURN_IF_ERROR(Allowed(who, "create", &entry.detail));
    auto v = book_.Add(c, request.rule_set(), who.subject);
    if (!v.ok()) {
      return v.status();
    }
    added = *v;
    entry.resource = absl::StrCat("ruleSets/structure/versions/", v->version);
    entry.detail = absl::StrCat("effective ", time::ToIso(v->effective_date));
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  book_.Forget();
  return ToProto(added);
}

grpc::Status RuleSetService::GetStructureRules(grpc::ServerContext* context,
                                               const pb::GetStructureRulesRequest* request,
                                               pb::StructureRuleSet* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, InForce(who, *request), response);
  });
}

grpc::Status RuleSetService::ListStructureRuleSets(grpc::ServerContext* context,
                                                   const pb::ListStructureRuleSetsRequest*,
                                                   pb::ListStructureRuleSetsResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, List(who), response);
  });
}

grpc::Status RuleSetService::CreateStructureRuleSet(
    grpc::ServerContext* context, const pb::CreateStructureRuleSetRequest* request,
    pb::StructureRuleSet* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Create(who, *request), response);
  });
}

}  // namespace dj::org

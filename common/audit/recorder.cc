// Audit entries for handlers, and the audit log's list and verify methods.
#include "common/audit/recorder.h"
#include "common/time/clock.h"

#include <chrono>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "google/protobuf/util/time_util.h"

namespace dj::audit {
namespace {

namespace pb = dangjian::audit::v1;

// Every recorder of the process, for FlushAll.
std::mutex& RegistryMu() {
  static std::mutex mu;
  return mu;
}
std::set<Recorder*>& Registry() {
  static std::set<Recorder*> all;
  return all;
}

}  // namespace

Recorder::Recorder(db::Pool& pool, std::string key, std::string log_name, size_t max_queued,
                   std::chrono::milliseconds count_interval)
    : pool_(pool),
      log_(std::move(key)),
      log_name_(std::move(log_name)),
      max_queued_(max_queued),
      count_interval_(count_interval) {
  std::lock_guard lock(RegistryMu());
  Registry().insert(this);
}

void Recorder::FlushAll() {
  std::lock_guard lock(RegistryMu());
  for (Recorder* r : Registry()) {
    (void)r->Flush();
  }
}

std::string OutcomeOf(const absl::Status& status) {
  return std::string(SV(absl::StatusCodeToString(status.code())));
}

Entry Recorder::For(const auth::Principal& who, std::string action, std::string resource,
                    std::string org_path) {
  Entry e;
  e.time_us = time::NowMicros();
  e.actor = who.anonymous() ? "anonymous" : who.subject;
  e.action = std::move(action);
  e.resource = std::move(resource);
  e.org_path = std::move(org_path);
  e.client_ip = who.client_ip;
  e.request_id = who.request_id;
  e.outcome = "OK";
  return e;
}

absl::Status Recorder::Transact(Entry& entry,
                                const std::function<absl::Status(db::Connection&)>& write) {
  absl::Status status = pool_.Transact([&](db::Connection& c) -> absl::Status {
    RETURN_IF_ERROR(write(c));
    entry.outcome = "OK";
    auto appended = log_.Append(c, entry);
    return appended.status();
  });
  if (!status.ok()) {
    // Nothing was written; the attempt still is. A failure to record it is logged, and the
    // caller gets the write's own error.
    if (absl::Status s = Record(entry, status); !s.ok()) {
      log::Error("audit append failed",
                 {{"action", entry.action}, {"error", std::string(SV(s.message()))}});
    }
  }
  return status;
}

absl::Status Recorder::Record(Entry entry, const absl::Status& outcome) {
  entry.outcome = OutcomeOf(outcome);
  if (!outcome.ok() && entry.detail.empty()) {
    entry.detail = rpc::Reason(outcome);
  }
  return log_.AppendAlone(pool_, std::move(entry)).status();
}

Recorder::~Recorder() {
  {
    std::lock_guard lock(RegistryMu());
    Registry().erase(this);
  }
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) {
    flusher_.join();
  }
  if (absl::Status s = Flush(); !s.ok()) {
    log::Error("audit refusals lost at shutdown",
               {{"log", log_name_}, {"error", std::string(SV(s.message()))}});
  }
}

void Recorder::Refuse(Entry entry, const absl::Status& outcome) {
  entry.outcome = OutcomeOf(outcome);
  if (!outcome.ok() && entry.detail.empty()) {
    entry.detail = rpc::Reason(outcome);
  }
  std::lock_guard lock(queue_mu_);
  if (queued_.size() >= max_queued_) {
    ++dropped_;
    return;
  }
  queued_.push_back(std::move(entry));
  if (!flusher_.joinable() && !stop_) {
    flusher_ = std::thread([this] { FlushLoop(); });
  }
}

void Recorder::FlushLoop() {
  std::unique_lock lock(queue_mu_);
  auto counts_due = std::chrono::steady_clock::now() + count_interval_;
  while (!stop_) {
    wake_.wait_for(lock, kFlushInterval);
    if (stop_) {
      break;
    }
    const bool counts = std::chrono::steady_clock::now() >= counts_due;
    lock.unlock();
    if (counts) {
      QueueCounts();
      counts_due = std::chrono::steady_clock::now() + count_interval_;
    }
    if (absl::Status s = FlushQueued(); !s.ok()) {
      log::Warn("audit refusals not appended yet",
                {{"log", log_name_}, {"error", std::string(SV(s.message()))}});
    }
    lock.lock();
  }
}

namespace {

// "ipv4:10.0.0.9:51234" -> "10.0.0.9", "ipv6:[::1]:5000" -> "::1"; anything else as it is.
std::string AddressOf(std::string_view peer) {
  absl::string_view rest = AV(peer);
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    const size_t colon = rest.rfind(':');
    return std::string(colon == absl::string_view::npos ? rest : rest.substr(0, colon));
  }
  if (absl::ConsumePrefix(&rest, "ipv6:")) {
    const size_t close = rest.find(']');
    if (absl::ConsumePrefix(&rest, "[") && close != absl::string_view::npos) {
      return std::string(rest.substr(0, close - 1));
    }
    return std::string(rest);
  }
  return std::string(peer);
}

std::string Rfc3339(int64_t us) {
  return google::protobuf::util::TimeUtil::ToString(
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(us));
}

}  // namespace

void Recorder::Unauthenticated(std::string_view peer, std::string request_id,
                               const absl::Status& outcome) {
  const int64_t now = time::NowMicros();
  std::string address = AddressOf(peer);
  std::string reason = rpc::Reason(outcome);
  {
    std::lock_guard lock(queue_mu_);
    auto key = std::make_pair(reason, address);
    auto it = counted_.find(key);
    const bool overflow = it == counted_.end() && counted_.size() >= kMaxCountedPairs;
    if (overflow) {
      // Too many addresses at once: the rest are counted together, with no row of their own.
      key.second = "(other addresses)";
      it = counted_.try_emplace(key).first;
    }
    if (it != counted_.end()) {
      Tally& t = it->second;
      if (t.count == 0) {
        t.first_us = now;
        t.request_id = std::move(request_id);
        t.outcome = OutcomeOf(outcome);
      }
      ++t.count;
      t.last_us = now;
      return;
    }
    counted_.emplace(std::move(key), Tally{});
  }
  // The first of its pair: a row as it happened.
  auth::Principal unknown;
  unknown.client_ip = std::move(address);
  unknown.request_id = std::move(request_id);
  Entry e = For(unknown, "rpc.authenticate", "", "/");
  e.time_us = now;
  Refuse(std::move(e), outcome);
}

void Recorder::QueueCounts() {
  std::vector<Entry> rows;
  {
    std::lock_guard lock(queue_mu_);
    for (auto it = counted_.begin(); it != counted_.end();) {
      Tally& t = it->second;
      if (t.count == 0) {
        it = counted_.erase(it);  // quiet since the last count: its next call gets a row again
        continue;
      }
      auth::Principal unknown;
      unknown.client_ip = it->first.second;
      unknown.request_id = t.request_id;
      Entry e = For(unknown, "rpc.authenticate", "", "/");
      e.time_us = t.last_us;
      e.outcome = t.outcome;
      e.detail = absl::StrCat(it->first.first, " x", t.count, " from ", Rfc3339(t.first_us), " to ",
                              Rfc3339(t.last_us));
      rows.push_back(std::move(e));
      t = Tally{};
      ++it;
    }
    for (Entry& e : rows) {
      if (queued_.size() >= max_queued_) {
        ++dropped_;
        continue;
      }
      queued_.push_back(std::move(e));
    }
    if (!queued_.empty() && !flusher_.joinable() && !stop_) {
      flusher_ = std::thread([this] { FlushLoop(); });
    }
  }
}

absl::Status Recorder::Flush() {
  QueueCounts();
  return FlushQueued();
}

absl::Status Recorder::FlushQueued() {
  std::lock_guard flushing(flush_mu_);
  std::vector<Entry> batch;
  int64_t dropped = 0;
  {
    std::lock_guard lock(queue_mu_);
    batch.swap(queued_);
    std::swap(dropped, dropped_);
  }
  if (dropped > 0) {
    Entry e = For(auth::Principal{}, "audit.refusals_dropped", log_name_, "/");
    e.actor = "system";
    e.detail = absl::StrCat(dropped, " refusals arrived faster than they could be recorded");
    batch.push_back(std::move(e));
  }
  if (batch.empty()) {
    return absl::OkStatus();
  }
  absl::Status s = pool_.Transact(
      [&](db::Connection& c) -> absl::Status { return log_.AppendAll(c, batch).status(); });
  if (!s.ok()) {
    // Kept, in order, ahead of what arrived meanwhile (within the bound).
    std::lock_guard lock(queue_mu_);
    if (batch.size() + queued_.size() <= max_queued_) {
      batch.insert(batch.end(), std::make_move_iterator(queued_.begin()),
                   std::make_move_iterator(queued_.end()));
      queued_.swap(batch);
    } else {
      dropped_ += static_cast<int64_t>(batch.size());
    }
  }
  return s;
}

absl::Status Recorder::CheckName(const auth::Principal& who, std::string_view name,
                                 std::string_view field, std::string_view action) {
  if (name != log_name_) {
    return rpc::InvalidArgument({{std::string(field), absl::StrCat("must be '", log_name_, "'")}});
  }
  // The log as a whole sits at the top of the caller's own scope: a grant over that subtree
  // lets them see its part of the log.
  const std::string scope_path = who.scope_org == 0 ? "/" : absl::StrCat("/", who.scope_org, "/");
  absl::Status s = auth::Authorize(who, action, {"audit_log", scope_path, ""});
  if (s.code() == absl::StatusCode::kNotFound) {
    // The log exists for everyone: a caller without the grant is told so.
    s = rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                   absl::StrCat("your roles do not allow ", AV(action), " on the audit log"));
  }
  if (!s.ok()) {
    // The row records the answer the caller got.
    Refuse(For(who, absl::StrCat("audit_log.", AV(action)), log_name_, scope_path), s);
  }
  return s;
}

absl::StatusOr<pb::ListAuditEntriesResponse> Recorder::List(
    const auth::Principal& who, const pb::ListAuditEntriesRequest& request) {
  RETURN_IF_ERROR(CheckName(who, request.parent(), "parent", "read"));
  FlushAll();  // the refusals queued so far are part of what the auditor reads
  auto size = rpc::PageSize(request.page_size());
  if (!size.ok()) {
    return size.status();
  }
  const std::string filter = absl::StrCat("audit|", log_name_, "|", who.scope_org);
  auto cursor = rpc::DecodePageToken(request.page_token(), filter);
  if (!cursor.ok()) {
    return cursor.status();
  }
  // "seq.shard" (or "seq", from before the log had chains: everything below that seq).
  Position before{0, INT32_MIN};
  if (!cursor->empty()) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(AV(*cursor), '.');
    int32_t shard = INT32_MIN;
    if (!absl::SimpleAtoi(parts.first, &before.seq) || before.seq <= 0 ||
        (!parts.second.empty() && (!absl::SimpleAtoi(parts.second, &shard) || shard < 0))) {
      return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
    }
    before.shard = shard;
  }
  auto rows = log_.List(pool_, who.scope_org, before, *size + 1);
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListAuditEntriesResponse out;
  const bool more = static_cast<int32_t>(rows->size()) > *size;
  if (more) {
    rows->pop_back();
  }
  for (const Entry& e : *rows) {
    pb::AuditEntry* p = out.add_entries();
    p->set_seq(e.seq);
    *p->mutable_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(e.time_us);
    p->set_actor(e.actor);
    p->set_action(e.action);
    p->set_resource(e.resource);
    p->set_client_ip(e.client_ip);
    p->set_request_id(e.request_id);
    p->set_outcome(e.outcome);
    p->set_detail(e.detail);
    p->set_hash(e.hash);
  }
  if (more) {
    out.set_next_page_token(
        rpc::EncodePageToken(filter, absl::StrCat(rows->back().seq, ".", rows->back().shard)));
  }
  return out;
}

absl::StatusOr<pb::VerifyAuditLogResponse> Recorder::Verify(
    const auth::Principal& who, const pb::VerifyAuditLogRequest& request) {
  RETURN_IF_ERROR(CheckName(who, request.name(), "name", "verify"));
  FlushAll();
  auto v = log_.Verify(pool_);
  if (!v.ok()) {
    return v.status();
  }
  pb::VerifyAuditLogResponse out;
  out.set_intact(v->intact);
  out.set_checked(v->checked);
  out.set_first_bad_seq(v->first_bad_seq);
  out.set_problem(v->problem);
  return out;
}

}  // namespace dj::audit

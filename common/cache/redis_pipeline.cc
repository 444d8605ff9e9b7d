#include "common/cache/redis_pipeline.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"

namespace dj::cache {
namespace {

using Clock = std::chrono::steady_clock;
// How often the reply thread looks at deadlines while nothing arrives.
constexpr auto kTick = std::chrono::milliseconds(50);

absl::StatusOr<RedisPipeline::Values> ToValues(const redisReply* r, size_t keys) {
  if (r == nullptr) {
    return absl::UnavailableError("redis: connection lost before the reply");
  }
  if (r->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis: ", absl::string_view(r->str, r->len)));
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements != keys) {
    return absl::InternalError("unexpected reply to MGET");
  }
  RedisPipeline::Values out(keys);
  for (size_t i = 0; i < keys; ++i) {
    const redisReply* e = r->element[i];
    if (e->type == REDIS_REPLY_STRING) {
      out[i].emplace(e->str, e->len);
    } else if (e->type != REDIS_REPLY_NIL) {
      return absl::InternalError("unexpected reply to MGET");
    }
  }
  return out;
}

void Wake(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(fd, &one, sizeof(one));
}

template <typename Ready>
void Hand(Ready& ready) {
  for (auto& [done, result] : ready) {
    done(std::move(result));
  }
}

}  // namespace

RedisPipeline::RedisPipeline(RedisOptions options)
    : options_(std::move(options)),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  connect_asked_ = true;  // the thread's first turn connects
  thread_ = std::thread([this] { Loop(); });
}

RedisPipeline::~RedisPipeline() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake(wake_fd_);
  thread_.join();
  Ready ready;
  {
    std::lock_guard lock(mu_);
    if (ac_ != nullptr) {
      redisAsyncFree(ac_);  // every waiting command's callback runs, with no reply
      ac_ = nullptr;
    }
    ready.swap(ready_);
  }
  Hand(ready);
  close(wake_fd_);
  close(epoll_fd_);
}

void RedisPipeline::MGet(std::span<const std::string_view> keys, Done done) {
  Ready ready;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (ac_ == nullptr || stop_) {
      if (!stop_ && !connect_asked_ && Clock::now() >= down_until_) {
        connect_asked_ = true;
        wake = true;
      }
      ready.emplace_back(std::move(done), absl::UnavailableError("redis: not connected"));
    } else {
      std::vector<std::string_view> args;
      args.reserve(keys.size() + 1);
      args.push_back("MGET");
      args.insert(args.end(), keys.begin(), keys.end());
      Send(args, new Pending{std::move(done), keys.size(), Clock::now() + options_.command_timeout});
      if (ac_ != nullptr && connected_) {
        redisAsyncHandleWrite(ac_);  // this thread writes it: no wake-up of the reply thread
      }
      WatchSocket();
      ready.swap(ready_);
    }
  }
  if (wake) {
    Wake(wake_fd_);
  }
  Hand(ready);
}

void RedisPipeline::Send(std::span<const std::string_view> args, Pending* pending) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  if (redisAsyncCommandArgv(ac_, &RedisPipeline::OnReply, pending, static_cast<int>(args.size()),
                            argv.data(), lengths.data()) != REDIS_OK) {
    if (pending->done) {  // the connection is closing
      ready_.emplace_back(std::move(pending->done),
                          absl::UnavailableError("redis: connection closing"));
    }
    delete pending;
    return;
  }
  waiting_.push_back(pending);
}

void RedisPipeline::Connect() {
  connect_asked_ = false;
  if (ac_ != nullptr || stop_ || Clock::now() < down_until_) {
    return;
  }
  redisAsyncContext* ac = redisAsyncConnect(options_.url.host.c_str(), options_.url.port);
  if (ac == nullptr || ac->err != 0) {
    const std::string err = ac == nullptr ? "cannot allocate" : ac->errstr;
    if (ac != nullptr) {
      redisAsyncFree(ac);
    }
    down_until_ = Clock::now() + options_.retry_after;
    if (!was_down_) {
      was_down_ = true;
      log::Warn("redis unreachable",
                {{"host", options_.url.host}, {"user", "cache pipeline"}, {"why", err}});
    }
    return;
  }
  ac_ = ac;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addRead = &RedisPipeline::AddRead;
  ac->ev.delRead = &RedisPipeline::DelRead;
  ac->ev.addWrite = &RedisPipeline::AddWrite;
  ac->ev.delWrite = &RedisPipeline::DelWrite;
  ac->ev.cleanup = &RedisPipeline::Cleanup;
  redisAsyncSetConnectCallback(ac, &RedisPipeline::OnConnect);
  redisAsyncSetDisconnectCallback(ac, &RedisPipeline::OnDisconnect);
  connected_ = false;
  connect_deadline_ = Clock::now() + options_.connect_timeout;
  socket_fd_ = ac->c.fd;
  epoll_event ev{};
  ev.events = 0;
  ev.data.fd = socket_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, socket_fd_, &ev);
  has_events_ = 0;
  want_events_ = EPOLLOUT;  // the connect completes when the socket is writable
  // Sent first on the connection, so every command after them runs authenticated on its db.
  const auto setup_deadline = connect_deadline_ + options_.command_timeout;
  if (!options_.url.password.empty()) {
    const std::string_view auth[] = {"AUTH", options_.url.password};
    Send(auth, new Pending{nullptr, 0, setup_deadline});
  }
  if (options_.url.db != 0 && ac_ != nullptr) {
    const std::string db = absl::StrCat(options_.url.db);
    const std::string_view select[] = {"SELECT", db};
    Send(select, new Pending{nullptr, 0, setup_deadline});
  }
  WatchSocket();
}

void RedisPipeline::Drop(std::string_view why) {
  if (ac_ != nullptr) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    redisAsyncFree(ac);  // fails the waiting commands through OnReply; Cleanup unregisters
  }
  connected_ = false;
  waiting_.clear();
  down_until_ = Clock::now() + options_.retry_after;
  if (!was_down_) {
    was_down_ = true;
    log::Warn("redis unreachable",
              {{"host", options_.url.host}, {"user", "cache pipeline"}, {"why", std::string(why)}});
  }
}

void RedisPipeline::WatchSocket() {
  if (socket_fd_ < 0 || want_events_ == has_events_) {
    return;
  }
  epoll_event ev{};
  ev.events = want_events_;
  ev.data.fd = socket_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, socket_fd_, &ev);
  has_events_ = want_events_;
}

void RedisPipeline::Loop() {
  epoll_event events[4];
  while (true) {
    int timeout_ms = static_cast<int>(kTick.count());
    {
      std::lock_guard lock(mu_);
      if (stop_) {
        return;
      }
    }
    const int n = epoll_wait(epoll_fd_, events, 4, timeout_ms);
    Ready ready;
    {
      std::lock_guard lock(mu_);
      if (stop_) {
        return;
      }
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == wake_fd_) {
          uint64_t count = 0;
          [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
          continue;
        }
        if (ac_ == nullptr || events[i].data.fd != socket_fd_) {
          continue;
        }
        if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
          redisAsyncHandleRead(ac_);  // may disconnect: OnDisconnect clears ac_
        }
        if (ac_ != nullptr && (events[i].events & EPOLLOUT) != 0) {
          redisAsyncHandleWrite(ac_);
        }
      }
      const auto now = Clock::now();
      if (ac_ != nullptr && !connected_ && now > connect_deadline_) {
        Drop("connect timed out");
      } else if (ac_ != nullptr && !waiting_.empty() && now > waiting_.front()->deadline) {
        Drop("reply timed out");
      }
      if (connect_asked_) {
        Connect();
      }
      WatchSocket();
      ready.swap(ready_);
    }
    Hand(ready);
  }
}

void RedisPipeline::OnReply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* self = static_cast<RedisPipeline*>(ac->data);
  std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
  // Replies come in the order the commands went out; Drop has already forgotten them all.
  if (!self->waiting_.empty() && self->waiting_.front() == pending.get()) {
    self->waiting_.pop_front();
  } else if (auto it = std::find(self->waiting_.begin(), self->waiting_.end(), pending.get());
             it != self->waiting_.end()) {
    self->waiting_.erase(it);
  }
  const auto* r = static_cast<const redisReply*>(reply);
  if (!pending->done) {  // AUTH or SELECT: without them nothing on this connection is right
    if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
      redisAsyncDisconnect(ac);
    }
    return;
  }
  self->ready_.emplace_back(std::move(pending->done), ToValues(r, pending->keys));
}

void RedisPipeline::OnConnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisPipeline*>(ac->data);
  if (status != REDIS_OK) {  // hiredis frees the context after this returns
    self->ac_ = nullptr;
    self->connected_ = false;
    self->waiting_.clear();
    self->down_until_ = Clock::now() + self->options_.retry_after;
    if (!self->was_down_) {
      self->was_down_ = true;
      log::Warn("redis unreachable",
                {{"host", self->options_.url.host}, {"user", "cache pipeline"}});
    }
    return;
  }
  self->connected_ = true;
  if (self->was_down_) {
    self->was_down_ = false;
    log::Info("redis reachable again",
              {{"host", self->options_.url.host}, {"user", "cache pipeline"}});
  }
}

void RedisPipeline::OnDisconnect(const redisAsyncContext* ac, int /*status*/) {
  auto* self = static_cast<RedisPipeline*>(ac->data);
  if (self->ac_ == ac) {  // not one Drop let go of: the server closed it, or AUTH failed
    self->ac_ = nullptr;
    self->connected_ = false;
    self->waiting_.clear();
    self->down_until_ = Clock::now() + self->options_.retry_after;
    if (!self->was_down_ && !self->stop_) {
      self->was_down_ = true;
      log::Warn("redis unreachable",
                {{"host", self->options_.url.host}, {"user", "cache pipeline"}});
    }
  }
}

void RedisPipeline::AddRead(void* self) { static_cast<RedisPipeline*>(self)->want_events_ |= EPOLLIN; }
void RedisPipeline::DelRead(void* self) {
  static_cast<RedisPipeline*>(self)->want_events_ &= ~static_cast<uint32_t>(EPOLLIN);
}
void RedisPipeline::AddWrite(void* self) {
  static_cast<RedisPipeline*>(self)->want_events_ |= EPOLLOUT;
}
void RedisPipeline::DelWrite(void* self) {
  static_cast<RedisPipeline*>(self)->want_events_ &= ~static_cast<uint32_t>(EPOLLOUT);
}
void RedisPipeline::Cleanup(void* self) {
  auto* p = static_cast<RedisPipeline*>(self);
  if (p->socket_fd_ >= 0) {
    epoll_ctl(p->epoll_fd_, EPOLL_CTL_DEL, p->socket_fd_, nullptr);
  }
  p->socket_fd_ = -1;
  p->want_events_ = 0;
  p->has_events_ = 0;
}

}  // namespace dj::cache

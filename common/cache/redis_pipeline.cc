#include "common/cache/redis_pipeline.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"

namespace dj::cache {
namespace {

using Clock = std::chrono::steady_clock;
// How often the reply thread looks at deadlines while nothing arrives.
constexpr auto kTick = std::chrono::milliseconds(50);

void Wake(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(fd, &one, sizeof(one));
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
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "dj-redis-pipe");
}

RedisPipeline::~RedisPipeline() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake(wake_fd_);
  thread_.join();
  Drop("the client is stopping");
  close(wake_fd_);
  close(epoll_fd_);
}

void RedisPipeline::MGet(std::span<const std::string_view> keys, Done done) {
  std::vector<std::string_view> args;
  args.reserve(keys.size() + 1);
  args.push_back("MGET");
  args.insert(args.end(), keys.begin(), keys.end());
  const std::string command = FormatCommand(args);
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (fd_ >= 0 && !broken_ && !stop_) {
      waiting_.push_back({std::move(done), keys.size(), Clock::now() + options_.command_timeout});
      out_ += command;
      if (out_.size() == command.size()) {  // nothing queued before it: write it now
        FlushLocked();
      }
      wake = broken_;
      done = nullptr;
    } else if (fd_ < 0 && !stop_ && !connect_asked_ && Clock::now() >= down_until_) {
      connect_asked_ = true;
      wake = true;
    }
  }
  if (wake) {
    Wake(wake_fd_);
  }
  if (done) {
    done(absl::UnavailableError("redis: not connected"));
  }
}

void RedisPipeline::FlushLocked() {
  while (!out_.empty()) {
    const ssize_t n = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      WatchWritable(true);  // the reply thread writes the rest when the socket takes it
      return;
    }
    broken_ = true;  // the reply thread drops the connection and fails what waits on it
    return;
  }
  WatchWritable(false);
}

void RedisPipeline::MarkDownLocked(std::string_view why) {
  down_until_ = Clock::now() + options_.retry_after;
  if (!was_down_) {
    was_down_ = true;
    log::Warn("redis unreachable",
              {{"host", options_.url.host}, {"user", "cache pipeline"}, {"why", why}});
  }
}

void RedisPipeline::WatchWritable(bool on) {
  if (on == watching_out_ || fd_ < 0) {
    return;
  }
  epoll_event ev{};
  ev.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  ev.data.fd = fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_, &ev);
  watching_out_ = on;
}

void RedisPipeline::Loop() {
  epoll_event events[4];
  while (true) {
    bool connect = false;
    bool broken = false;
    {
      std::lock_guard lock(mu_);
      if (stop_) {
        return;
      }
      connect = fd_ < 0 && connect_asked_;
      broken = broken_;
    }
    if (broken) {
      Drop("a write failed");
    }
    if (connect) {
      Connect();
    }
    const int n = epoll_wait(epoll_fd_, events, 4, static_cast<int>(kTick.count()));
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_fd_) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
        continue;
      }
      if (context_ == nullptr || events[i].data.fd != context_->fd) {
        continue;  // a socket dropped earlier in this turn
      }
      if ((events[i].events & EPOLLOUT) != 0) {
        std::lock_guard lock(mu_);
        FlushLocked();
      }
      if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        ReadReplies();
      }
    }
    bool late = false;
    {
      std::lock_guard lock(mu_);
      late = fd_ >= 0 && !waiting_.empty() && Clock::now() > waiting_.front().deadline;
    }
    if (late) {
      Drop("a reply timed out");
    }
  }
}

void RedisPipeline::Connect() {
  {
    std::lock_guard lock(mu_);
    connect_asked_ = false;
  }
  std::string failed;
  redisContext* c = redisConnectWithTimeout(options_.url.host.c_str(), options_.url.port,
                                            ToTimeval(options_.connect_timeout));
  if (c == nullptr || c->err != 0) {
    failed = c == nullptr ? "cannot allocate" : c->errstr;
  } else {
    redisSetTimeout(c, ToTimeval(options_.command_timeout));
    auto ok = [](void* reply) {
      auto* r = static_cast<redisReply*>(reply);
      const bool fine = r != nullptr && r->type != REDIS_REPLY_ERROR;
      freeReplyObject(r);
      return fine;
    };
    if (!options_.url.password.empty() &&
        !ok(redisCommand(c, "AUTH %b", options_.url.password.data(),
                         options_.url.password.size()))) {
      failed = "AUTH failed";
    } else if (options_.url.db != 0 && !ok(redisCommand(c, "SELECT %d", options_.url.db))) {
      failed = "SELECT failed";
    }
  }
  if (!failed.empty()) {
    if (c != nullptr) {
      redisFree(c);
    }
    std::lock_guard lock(mu_);
    MarkDownLocked(failed);
    return;
  }
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = c->fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &ev);
  context_ = c;
  reader_ = redisReaderCreate();
  std::lock_guard lock(mu_);
  fd_ = c->fd;
  broken_ = false;
  watching_out_ = false;
  out_.clear();
  if (was_down_) {
    was_down_ = false;
    log::Info("redis reachable again", {{"host", options_.url.host}, {"user", "cache pipeline"}});
  }
}

void RedisPipeline::ReadReplies() {
  char buf[16 * 1024];
  while (true) {
    const ssize_t n = read(context_->fd, buf, sizeof(buf));
    if (n > 0) {
      redisReaderFeed(reader_, buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) == sizeof(buf)) {
        continue;  // there may be more
      }
      break;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    Drop(n == 0 ? "the server closed the connection" : std::strerror(errno));
    return;
  }
  void* reply = nullptr;
  while (true) {
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
      Drop("a reply did not parse");
      return;
    }
    if (reply == nullptr) {
      return;  // the rest has not arrived yet
    }
    std::optional<Pending> pending;
    {
      std::lock_guard lock(mu_);
      if (!waiting_.empty()) {
        pending = std::move(waiting_.front());
        waiting_.pop_front();
      }
    }
    if (!pending.has_value()) {
      freeReplyObject(reply);
      Drop("a reply that no command asked for");
      return;
    }
    auto values = MGetValues(*static_cast<const redisReply*>(reply), pending->keys);
    freeReplyObject(reply);
    pending->done(std::move(values));  // without the lock: it may answer a call
  }
}

void RedisPipeline::Drop(std::string_view why) {
  std::deque<Pending> failed;
  {
    std::lock_guard lock(mu_);
    failed.swap(waiting_);
    const bool had = fd_ >= 0;
    fd_ = -1;  // no writer touches the socket from here on
    broken_ = false;
    watching_out_ = false;
    out_.clear();
    if (had && !stop_) {
      MarkDownLocked(why);
    }
  }
  if (context_ != nullptr) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, context_->fd, nullptr);
    redisFree(context_);  // closes the socket
    context_ = nullptr;
  }
  if (reader_ != nullptr) {
    redisReaderFree(reader_);
    reader_ = nullptr;
  }
  for (Pending& p : failed) {
    p.done(absl::UnavailableError(absl::StrCat("redis: ", AV(why))));
  }
}

}  // namespace dj::cache

// The gateway's revocation list: what it refuses (a session, an account's earlier epochs), how it
// follows `next_since`, what it keeps when the member service fails, when it forgets, and its
// thread. An injected clock and a fake ListRevocations that records what it was asked.
#include "gateway/src/revocations.h"

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace dj::gateway {
namespace {

namespace pb = dangjian::member::v1;

google::protobuf::Timestamp Seconds(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

pb::Revocation SessionRevoked(const std::string& session, const std::string& account,
                              int64_t expires) {
  pb::Revocation r;
  r.set_session(session);
  r.set_account(account);  // the member service sends the session's account too
  *r.mutable_expire_time() = Seconds(expires);
  return r;
}

pb::Revocation AccountRevoked(const std::string& account, int64_t min_epoch, int64_t expires) {
  pb::Revocation r;
  r.set_account(account);
  r.set_min_epoch(min_epoch);
  *r.mutable_expire_time() = Seconds(expires);
  return r;
}

pb::ListRevocationsResponse List(std::vector<pb::Revocation> revocations,
                                 google::protobuf::Timestamp next_since) {
  pb::ListRevocationsResponse response;
  for (pb::Revocation& r : revocations) {
    *response.add_revocations() = std::move(r);
  }
  *response.mutable_next_since() = next_since;
  return response;
}

// The member service: answers what is queued (an empty list when nothing is) and records every
// request. Thread-safe, for Start().
class FakeMember {
 public:
  void Answer(absl::StatusOr<pb::ListRevocationsResponse> answer) {
    std::lock_guard lock(mu_);
    answers_.push_back(std::move(answer));
  }

  std::vector<pb::ListRevocationsRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  Revocations::Fetch fetch() {
    return [this](const pb::ListRevocationsRequest& request)
               -> absl::StatusOr<pb::ListRevocationsResponse> {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      if (answers_.empty()) {
        return pb::ListRevocationsResponse();
      }
      absl::StatusOr<pb::ListRevocationsResponse> answer = std::move(answers_.front());
      answers_.pop_front();
      return answer;
    };
  }

 private:
  mutable std::mutex mu_;
  std::deque<absl::StatusOr<pb::ListRevocationsResponse>> answers_;
  std::vector<pb::ListRevocationsRequest> requests_;
};

class RevocationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Revocations> Make(std::chrono::milliseconds interval = std::chrono::hours(1)) {
    return std::make_unique<Revocations>(
        member_.fetch(),
        RevocationsOptions{.interval = interval, .now_seconds = [this] { return now_.load(); }});
  }

  FakeMember member_;
  std::atomic<int64_t> now_{1'000'000};
};

TEST_F(RevocationsTest, BeforeAnyPollNotLoadedAndNothingRevoked) {
  auto revocations = Make();
  EXPECT_FALSE(revocations->loaded());
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s1", 0));
  EXPECT_FALSE(revocations->Revoked("accounts/12", "", 0));
  EXPECT_TRUE(member_.requests().empty()) << "nothing is asked before Poll or Start";
}

TEST_F(RevocationsTest, FailedFirstPollLeavesItNotLoaded) {
  auto revocations = Make();
  member_.Answer(absl::UnavailableError("member service down"));
  EXPECT_EQ(revocations->Poll().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(revocations->loaded());
  ASSERT_EQ(member_.requests().size(), 1u);
  EXPECT_FALSE(member_.requests()[0].has_since()) << "the first list asks for everything";

  member_.Answer(List({}, Seconds(now_ - 60)));
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_TRUE(revocations->loaded()) << "an empty list is a list";
  ASSERT_EQ(member_.requests().size(), 2u);
  EXPECT_FALSE(member_.requests()[1].has_since()) << "a failure tells nothing about since";
}

TEST_F(RevocationsTest, SessionRevocationRefusesOnlyThatSession) {
  auto revocations = Make();
  member_.Answer(List({SessionRevoked("s1", "accounts/12", now_ + 960)}, Seconds(now_ - 60)));
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_TRUE(revocations->loaded());
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 0));
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 7)) << "whatever the epoch";
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s2", 0)) << "another session of the account";
  EXPECT_FALSE(revocations->Revoked("accounts/12", "", 0)) << "a token without a session";
  EXPECT_FALSE(revocations->Revoked("accounts/13", "s3", 0));
}

TEST_F(RevocationsTest, AccountRevocationRefusesEarlierEpochsOfThatAccountOnly) {
  auto revocations = Make();
  member_.Answer(List({AccountRevoked("accounts/12", 3, now_ + 960)}, Seconds(now_ - 60)));
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 0));
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 2));
  EXPECT_TRUE(revocations->Revoked("accounts/12", "", 2)) << "a token without a session";
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s1", 3)) << "min_epoch itself is valid";
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s2", 4));
  EXPECT_FALSE(revocations->Revoked("accounts/13", "s3", 0)) << "another account";
  EXPECT_FALSE(revocations->Revoked("accounts/1", "s3", 0)) << "no prefix matching";
}

TEST_F(RevocationsTest, NextPollSendsNextSinceAndRepeatsAreHarmless) {
  auto revocations = Make();
  const pb::Revocation session = SessionRevoked("s1", "accounts/12", now_ + 960);
  const pb::Revocation account = AccountRevoked("accounts/14", 2, now_ + 960);
  member_.Answer(List({session, account}, Seconds(now_ - 60, 250'000'000)));
  // The next list starts a little back: it repeats both, one of them twice.
  member_.Answer(List({session, session, account}, Seconds(now_ - 30, 500'000)));
  member_.Answer(List({}, Seconds(now_ - 30, 500'000)));

  ASSERT_TRUE(revocations->Poll().ok());
  ASSERT_TRUE(revocations->Poll().ok());
  ASSERT_TRUE(revocations->Poll().ok());

  const std::vector<pb::ListRevocationsRequest> requests = member_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_FALSE(requests[0].has_since());
  ASSERT_TRUE(requests[1].has_since());
  EXPECT_EQ(requests[1].since().seconds(), now_ - 60);
  EXPECT_EQ(requests[1].since().nanos(), 250'000'000) << "sent back exactly as received";
  ASSERT_TRUE(requests[2].has_since());
  EXPECT_EQ(requests[2].since().seconds(), now_ - 30);
  EXPECT_EQ(requests[2].since().nanos(), 500'000);

  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 0));
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s2", 0));
  EXPECT_TRUE(revocations->Revoked("accounts/14", "s4", 1));
  EXPECT_FALSE(revocations->Revoked("accounts/14", "s4", 2));
}

TEST_F(RevocationsTest, FailedPollKeepsWhatWasKnown) {
  auto revocations = Make();
  member_.Answer(List({SessionRevoked("s1", "accounts/12", now_ + 960),
                       AccountRevoked("accounts/14", 2, now_ + 960)},
                      Seconds(now_ - 60)));
  member_.Answer(absl::UnavailableError("member service down"));
  member_.Answer(absl::DeadlineExceededError("slow"));
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_FALSE(revocations->Poll().ok());
  EXPECT_FALSE(revocations->Poll().ok());

  EXPECT_TRUE(revocations->loaded());
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 0));
  EXPECT_TRUE(revocations->Revoked("accounts/14", "s4", 1));
  EXPECT_FALSE(revocations->Revoked("accounts/14", "s4", 2));

  // The next poll catches up from where the last list ended.
  ASSERT_TRUE(revocations->Poll().ok());
  const std::vector<pb::ListRevocationsRequest> requests = member_.requests();
  ASSERT_EQ(requests.size(), 4u);
  for (size_t i = 1; i < requests.size(); ++i) {
    ASSERT_TRUE(requests[i].has_since()) << i;
    EXPECT_EQ(requests[i].since().seconds(), now_ - 60) << i;
  }
}

TEST_F(RevocationsTest, ForgetsAnEntryAtThePollAtOrAfterItsExpireTime) {
  auto revocations = Make();
  const int64_t start = now_;
  member_.Answer(List({SessionRevoked("s1", "accounts/12", start + 100),
                       AccountRevoked("accounts/14", 2, start + 200)},
                      Seconds(start - 60)));
  ASSERT_TRUE(revocations->Poll().ok());

  now_ = start + 99;  // one second before the session's expire_time
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 0));

  now_ = start + 100;  // at expire_time: no token it refuses is valid any more
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s1", 0));
  EXPECT_TRUE(revocations->Revoked("accounts/14", "s4", 1)) << "expires later";

  now_ = start + 199;
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_TRUE(revocations->Revoked("accounts/14", "s4", 1));

  now_ = start + 200;
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_FALSE(revocations->Revoked("accounts/14", "s4", 1));
  EXPECT_TRUE(revocations->loaded());
}

TEST_F(RevocationsTest, IgnoresAnEntryThatArrivesExpired) {
  auto revocations = Make();
  pb::Revocation late = SessionRevoked("s2", "accounts/12", 0);
  // Whole seconds: an expire_time within the current second counts as reached.
  *late.mutable_expire_time() = Seconds(now_, 999'999'999);
  member_.Answer(
      List({SessionRevoked("s1", "accounts/12", now_), AccountRevoked("accounts/14", 2, now_ - 1),
            late, SessionRevoked("s3", "accounts/12", now_ + 1)},
           Seconds(now_ - 60)));
  ASSERT_TRUE(revocations->Poll().ok());
  EXPECT_TRUE(revocations->loaded());
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s1", 0));
  EXPECT_FALSE(revocations->Revoked("accounts/12", "s2", 0));
  EXPECT_FALSE(revocations->Revoked("accounts/14", "s4", 1));
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s3", 0)) << "a second left";
}

TEST_F(RevocationsTest, HigherMinEpochWinsWhateverTheOrder) {
  const std::vector<std::vector<int64_t>> orders = {{3, 5}, {5, 3}};
  for (const std::vector<int64_t>& order : orders) {
    SCOPED_TRACE(testing::Message() << "min_epoch " << order[0] << " then " << order[1]);
    // In one list.
    {
      auto revocations = Make();
      member_.Answer(List({AccountRevoked("accounts/12", order[0], now_ + 960),
                           AccountRevoked("accounts/12", order[1], now_ + 960)},
                          Seconds(now_ - 60)));
      ASSERT_TRUE(revocations->Poll().ok());
      EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 4));
      EXPECT_FALSE(revocations->Revoked("accounts/12", "s1", 5));
    }
    // In two lists.
    {
      auto revocations = Make();
      member_.Answer(
          List({AccountRevoked("accounts/12", order[0], now_ + 960)}, Seconds(now_ - 60)));
      member_.Answer(
          List({AccountRevoked("accounts/12", order[1], now_ + 960)}, Seconds(now_ - 60)));
      ASSERT_TRUE(revocations->Poll().ok());
      ASSERT_TRUE(revocations->Poll().ok());
      EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 4));
      EXPECT_FALSE(revocations->Revoked("accounts/12", "s1", 5));
    }
  }
}

// Waits, at most about 5 s, for `done`.
template <typename Done>
bool Eventually(Done done) {
  for (int i = 0; i < 5000 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

TEST_F(RevocationsTest, StartPollsAtOnceAndTheDestructorStopsTheThread) {
  auto revocations = Make(std::chrono::hours(1));
  member_.Answer(List({SessionRevoked("s1", "accounts/12", now_ + 960)}, Seconds(now_ - 60)));
  revocations->Start();
  ASSERT_TRUE(Eventually([&] { return revocations->loaded(); }))
      << "the first poll is at once, not after an interval";
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 0));
  // Returns without waiting out the hour (the test would time out otherwise).
  revocations.reset();
  EXPECT_EQ(member_.requests().size(), 1u);
}

TEST_F(RevocationsTest, TheThreadKeepsPollingAfterAFailure) {
  auto revocations = Make(std::chrono::milliseconds(1));
  member_.Answer(absl::UnavailableError("member service down"));
  member_.Answer(List({SessionRevoked("s1", "accounts/12", now_ + 960)}, Seconds(now_ - 60)));
  revocations->Start();
  ASSERT_TRUE(Eventually([&] { return revocations->loaded(); }));
  EXPECT_TRUE(revocations->Revoked("accounts/12", "s1", 0));
  revocations.reset();
  EXPECT_GE(member_.requests().size(), 2u);
}

TEST_F(RevocationsTest, DestructorWithoutStart) {
  auto revocations = Make();
  revocations.reset();
  EXPECT_TRUE(member_.requests().empty());
}

}  // namespace
}  // namespace dj::gateway

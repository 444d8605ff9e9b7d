// Data directory creation, write check and flock.
#include "embedded/src/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/crypto/crypto.h"
#include "common/runtime/strings.h"

namespace dj::embedded {

absl::StatusOr<DataDir> DataDir::Open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot create the data directory: ", ec.message()));
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": is not a directory"));
  }
  const std::string lock_path = path + "/LOCK";
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": is not writable (", std::strerror(errno), ")"));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    int64_t pid = 0;
    const bool known = n > 0 && absl::SimpleAtoi(absl::StripAsciiWhitespace(buf), &pid);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": another dangjian is already using this data directory",
                     known ? absl::StrCat(" (pid ", pid, ")") : ""));
  }
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": is not writable (", std::strerror(errno), ")"));
  }
  return DataDir(path, fd);
}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) {
    close(lock_fd_);
  }
}

absl::StatusOr<std::string> DataDir::Key(std::string_view name) const {
  const std::string dir = absl::StrCat(path_, "/keys");
  const std::string file = absl::StrCat(dir, "/", AV(name));
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, ": cannot create (", std::strerror(errno), ")"));
  }
  std::string key;
  if (const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buf[256];
    const ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    key.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    key = std::string(absl::StripAsciiWhitespace(key));
    if (key.size() < 32) {
      return absl::FailedPreconditionError(
          absl::StrCat(file, ": is damaged (a key of at least 32 characters was expected)"));
    }
    return key;
  }
  key = crypto::Base64UrlEncode(crypto::RandomBytes(32));
  const std::string tmp = file + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(tmp, ": cannot write (", std::strerror(errno), ")"));
  }
  const std::string line = key + "\n";
  const bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written || rename(tmp.c_str(), file.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(file, ": cannot write the key"));
  }
  return key;
}

std::string DataDir::DatabaseFile(std::string_view service) const {
  return absl::StrCat(path_, "/", AV(service), ".db");
}

}  // namespace dj::embedded

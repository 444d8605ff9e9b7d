// The embedded binary's data directory: created if missing, checked writable, and locked so a
// second `dangjian` on the same directory stops with a clear error instead of sharing the files.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace dj::embedded {

class DataDir final {
 public:
  // Creates `path` (and parents) if needed, checks it is a writable directory and takes an
  // exclusive lock on `path`/LOCK (released when the process exits, even by kill -9).
  static absl::StatusOr<DataDir> Open(const std::string& path);

  DataDir(DataDir&& other) noexcept : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
    other.lock_fd_ = -1;
  }
  DataDir& operator=(DataDir&&) = delete;
  ~DataDir();

  // The SQLite file for `service` ("org" -> <dir>/org.db).
  std::string DatabaseFile(std::string_view service) const;
  const std::string& path() const { return path_; }

  // A key kept in <dir>/keys/<name> (mode 0600): made from 32 random bytes the first time, read
  // back after that, so the audit chain and signed tokens survive a restart.
  absl::StatusOr<std::string> Key(std::string_view name) const;

 private:
  DataDir(std::string path, int fd) : path_(std::move(path)), lock_fd_(fd) {}
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace dj::embedded

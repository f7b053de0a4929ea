// One open segment file (.log, .index, .timeindex): a descriptor plus the bookkeeping that lets
// disk work run on libuv's thread pool while the JS object stays the single owner.
#ifndef GODEL_NATIVE_SEGMENT_FILE_H_
#define GODEL_NATIVE_SEGMENT_FILE_H_

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace godel {

class FileWork;

class SegmentFile : public Napi::ObjectWrap<SegmentFile> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  // new SegmentFile(token, fd, path): only openSegmentFile constructs these (token proves it).
  explicit SegmentFile(const Napi::CallbackInfo& info);
  ~SegmentFile() override;

 private:
  friend class FileWork;
  friend class SyncWork;
  friend class CloseWork;

  enum class State { kOpen, kClosing, kClosed };

  Napi::Value Writev(const Napi::CallbackInfo& info);
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Truncate(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetSyncCount(const Napi::CallbackInfo& info);
  Napi::Value GetPath(const Napi::CallbackInfo& info);

  // A promise already rejected with EBADF, for calls made once close() has been called.
  Napi::Value RejectClosed(Napi::Env env, const char* syscall);
  // Counts `work` as in flight (close() waits for it) and queues it on the thread pool.
  void Start(FileWork* work);
  // Called on the main thread when a counted work item has settled its promise.
  void WorkEnded();
  // Starts one fdatasync covering every deferred in `waiters`.
  void StartSync(std::vector<Napi::Promise::Deferred> waiters);
  void StartClose();

  int fd_ = -1;
  std::string path_;
  State state_ = State::kClosed;
  uint32_t works_in_flight_ = 0;  // counted work items queued or running (not the close itself)
  uint64_t sync_count_ = 0;       // fdatasync calls that completed successfully
  bool sync_in_flight_ = false;
  bool close_started_ = false;
  // sync() calls made while a sync was in flight; the next single fdatasync covers all of them.
  std::vector<Napi::Promise::Deferred> sync_queue_;
  // close() calls waiting for the descriptor to be closed.
  std::vector<Napi::Promise::Deferred> close_waiters_;
};

// Error like Node's fs errors: message "ENOSPC: no space left on device, write '/p'", and own
// properties errno (negative, as libuv reports it), code, syscall and path.
Napi::Error MakeSystemError(Napi::Env env, int err, const char* syscall, const std::string& path);

}  // namespace godel

#endif  // GODEL_NATIVE_SEGMENT_FILE_H_

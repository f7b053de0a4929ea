// Segment files: a descriptor whose disk work runs on libuv's thread pool (Napi::AsyncWorker).
//
// JS calls (arguments already checked in ts/engine/native.ts with validate.ts; C++ asserts them):
//   openSegmentFile(path: string, create: boolean) -> Promise<SegmentFile>
//     open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644) on a worker.
//   file.writev(buffers: Uint8Array[], position: number) -> Promise<number>
//     The buffers' bytes go to the file back to back from `position`, read in place (no copy):
//     one iovec per buffer, pwritev'd at most IOV_MAX at a time, repeated after a short write
//     until every byte is written. Resolves with the total; on error rejects, and a prefix may
//     have been written. Each buffer is held by a Napi::Reference until the worker is done, so
//     the GC cannot free it; the caller must not detach/transfer its ArrayBuffer meanwhile.
//   file.read(target: Uint8Array, targetOffset: number, length: number, position: number)
//     -> Promise<number>   one pread into target[targetOffset, targetOffset + length); resolves
//     with the count (short only at end of file; 0 at or past it). target is held the same way.
//   file.sync() -> Promise<void>   fdatasync (F_FULLFSYNC on macOS) with group commit: while one
//     is in flight, further calls queue; when it ends, ONE new fdatasync covers all of them.
//   file.truncate(size: number) -> Promise<void>   ftruncate.
//   file.size() -> Promise<number>                 fstat's st_size.
//   file.close() -> Promise<void>   new calls now reject; the descriptor is closed (on a worker)
//     once every in-flight call has settled. Calling close() again joins or repeats the result.
//   file.syncCount (getter)  successful fdatasync calls.   file.path (getter)  the path opened.
// Errors are Node-style (see MakeSystemError); calls after close() reject with code 'EBADF'.
// Positions and sizes are JS integers in [0, 2^53); off_t is 64-bit on every supported platform.
#include "segment_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

static_assert(sizeof(off_t) == 8, "positions need a 64-bit off_t");

namespace godel {

// ---- Errors --------------------------------------------------------------------------------------

namespace {

struct ErrnoInfo {
  int err;
  const char* code;
  const char* message;  // libuv's wording, which Node's fs errors use
};

// Linear search, first match wins (some platforms alias codes, e.g. ENOTSUP == EOPNOTSUPP).
const ErrnoInfo kErrnos[] = {
    {E2BIG, "E2BIG", "argument list too long"},
    {EACCES, "EACCES", "permission denied"},
    {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
    {EBADF, "EBADF", "bad file descriptor"},
    {EBUSY, "EBUSY", "resource busy or locked"},
    {ECANCELED, "ECANCELED", "operation canceled"},
    {EDQUOT, "EDQUOT", "disk quota exceeded"},
    {EEXIST, "EEXIST", "file already exists"},
    {EFAULT, "EFAULT", "bad address in system call argument"},
    {EFBIG, "EFBIG", "file too large"},
    {EINTR, "EINTR", "interrupted system call"},
    {EINVAL, "EINVAL", "invalid argument"},
    {EIO, "EIO", "i/o error"},
    {EISDIR, "EISDIR", "illegal operation on a directory"},
    {ELOOP, "ELOOP", "too many symbolic links encountered"},
    {EMFILE, "EMFILE", "too many open files"},
    {EMLINK, "EMLINK", "too many links"},
    {ENAMETOOLONG, "ENAMETOOLONG", "name too long"},
    {ENFILE, "ENFILE", "file table overflow"},
    {ENODEV, "ENODEV", "no such device"},
    {ENOENT, "ENOENT", "no such file or directory"},
    {ENOMEM, "ENOMEM", "not enough memory"},
    {ENOSPC, "ENOSPC", "no space left on device"},
    {ENOSYS, "ENOSYS", "function not implemented"},
    {ENOTDIR, "ENOTDIR", "not a directory"},
    {ENOTEMPTY, "ENOTEMPTY", "directory not empty"},
    {ENOTSUP, "ENOTSUP", "operation not supported on socket"},
    {ENXIO, "ENXIO", "no such device or address"},
    {EOVERFLOW, "EOVERFLOW", "value too large for defined data type"},
    {EPERM, "EPERM", "operation not permitted"},
    {EPIPE, "EPIPE", "broken pipe"},
    {EROFS, "EROFS", "read-only file system"},
    {ESPIPE, "ESPIPE", "invalid seek"},
    {ESTALE, "ESTALE", "stale file handle"},
    {ETIMEDOUT, "ETIMEDOUT", "connection timed out"},
    {ETXTBSY, "ETXTBSY", "text file is busy"},
    {EXDEV, "EXDEV", "cross-device link not permitted"},
};

}  // namespace

Napi::Error MakeSystemError(Napi::Env env, int err, const char* syscall, const std::string& path) {
  GODEL_ASSERT(err > 0, "MakeSystemError needs a positive errno");
  const char* code = "UNKNOWN";
  std::string message;
  for (const ErrnoInfo& e : kErrnos) {
    if (e.err == err) {
      code = e.code;
      message = e.message;
      break;
    }
  }
  if (message.empty()) message = strerror(err);  // main thread only, so the static buffer is safe
  Napi::Error error =
      Napi::Error::New(env, std::string(code) + ": " + message + ", " + syscall + " '" + path + "'");
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, path));
  return error;
}

// ---- Work items ------------------------------------------------------------------------------

// Base of every disk operation on a SegmentFile. Constructed and settled on the main thread;
// Execute() runs on a pool thread and touches only the work item's own fields (never N-API, never
// the SegmentFile). The persistent reference keeps the JS object, hence the SegmentFile, alive.
class FileWork : public Napi::AsyncWorker {
 public:
  FileWork(SegmentFile* file, const char* resource_name, const char* syscall)
      : Napi::AsyncWorker(file->Env(), resource_name, file->Value()),
        file_(file),
        keep_file_(Napi::Persistent(file->Value())),
        fd_(file->fd_),
        syscall_(syscall),
        deferred_(Napi::Promise::Deferred::New(file->Env())) {
    GODEL_ASSERT(fd_ >= 0, "work on a file without a descriptor");
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  // Settles the promise(s) from the result of Execute(); runs on the main thread.
  virtual void Settle(Napi::Env env) = 0;
  virtual bool CountsAsWork() const { return true; }

  Napi::Error SystemError(Napi::Env env) const { return MakeSystemError(env, err_, syscall_, file_->path_); }

  void OnOK() override {
    Napi::Env env = Env();
    Settle(env);
    if (CountsAsWork()) file_->WorkEnded();
  }

  SegmentFile* const file_;
  Napi::ObjectReference keep_file_;
  const int fd_;
  const char* const syscall_;
  Napi::Promise::Deferred deferred_;
  int err_ = 0;  // errno from Execute(), 0 on success
};

namespace {

// Retries a system call interrupted by a signal; returns its result with errno preserved.
template <typename Call>
auto RetryOnEintr(Call call) -> decltype(call()) {
  decltype(call()) result;
  do {
    result = call();
  } while (result == -1 && errno == EINTR);
  return result;
}

class WritevWork : public FileWork {
 public:
  WritevWork(SegmentFile* file, off_t position) : FileWork(file, "godel:writev", "write"), position_(position) {}

  void Add(Napi::Uint8Array buffer) {
    if (buffer.ByteLength() == 0) return;
    iovecs_.push_back({buffer.Data(), buffer.ByteLength()});
    total_ += buffer.ByteLength();
    keep_buffers_.push_back(Napi::Persistent(buffer));
  }

 protected:
  void Execute() override {
    iovec* iov = iovecs_.data();
    size_t left = iovecs_.size();
    off_t position = position_;
    while (left > 0) {
      const int count = static_cast<int>(std::min<size_t>(left, IOV_MAX));
      const ssize_t n = RetryOnEintr([&] { return pwritev(fd_, iov, count, position); });
      if (n < 0) {
        err_ = errno;
        return;
      }
      if (n == 0) {  // no progress on a non-empty request: never loop forever
        err_ = EIO;
        return;
      }
      position += n;
      written_ += static_cast<size_t>(n);
      // Drop the iovecs written in full, then trim the one written in part.
      size_t consumed = static_cast<size_t>(n);
      while (left > 0 && consumed >= iov->iov_len) {
        consumed -= iov->iov_len;
        iov++;
        left--;
      }
      if (consumed > 0) {
        GODEL_ASSERT(left > 0, "pwritev wrote more than it was given");
        iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + consumed;
        iov->iov_len -= consumed;
      }
    }
    GODEL_ASSERT(written_ == total_, "writev finished with bytes left over");
  }

  void Settle(Napi::Env env) override {
    if (err_ != 0) {
      deferred_.Reject(SystemError(env).Value());
    } else {
      deferred_.Resolve(Napi::Number::New(env, static_cast<double>(written_)));
    }
  }

 private:
  const off_t position_;
  std::vector<iovec> iovecs_;
  std::vector<Napi::Reference<Napi::Uint8Array>> keep_buffers_;
  size_t total_ = 0;
  size_t written_ = 0;
};

class ReadWork : public FileWork {
 public:
  ReadWork(SegmentFile* file, Napi::Uint8Array target, size_t target_offset, size_t length, off_t position)
      : FileWork(file, "godel:read", "read"),
        keep_target_(Napi::Persistent(target)),
        dest_(target.Data() + target_offset),
        length_(length),
        position_(position) {}

 protected:
  void Execute() override {
    const ssize_t n = RetryOnEintr([&] { return pread(fd_, dest_, length_, position_); });
    if (n < 0) {
      err_ = errno;
    } else {
      read_ = static_cast<size_t>(n);
    }
  }

  void Settle(Napi::Env env) override {
    if (err_ != 0) {
      deferred_.Reject(SystemError(env).Value());
    } else {
      deferred_.Resolve(Napi::Number::New(env, static_cast<double>(read_)));
    }
  }

 private:
  Napi::Reference<Napi::Uint8Array> keep_target_;
  uint8_t* const dest_;
  const size_t length_;
  const off_t position_;
  size_t read_ = 0;
};

class TruncateWork : public FileWork {
 public:
  TruncateWork(SegmentFile* file, off_t size) : FileWork(file, "godel:truncate", "ftruncate"), size_(size) {}

 protected:
  void Execute() override {
    if (RetryOnEintr([&] { return ftruncate(fd_, size_); }) != 0) err_ = errno;
  }

  void Settle(Napi::Env env) override {
    if (err_ != 0) {
      deferred_.Reject(SystemError(env).Value());
    } else {
      deferred_.Resolve(env.Undefined());
    }
  }

 private:
  const off_t size_;
};

class SizeWork : public FileWork {
 public:
  explicit SizeWork(SegmentFile* file) : FileWork(file, "godel:size", "fstat") {}

 protected:
  void Execute() override {
    struct stat st;
    if (RetryOnEintr([&] { return fstat(fd_, &st); }) != 0) {
      err_ = errno;
    } else {
      size_ = st.st_size;
    }
  }

  void Settle(Napi::Env env) override {
    if (err_ != 0) {
      deferred_.Reject(SystemError(env).Value());
    } else {
      deferred_.Resolve(Napi::Number::New(env, static_cast<double>(size_)));
    }
  }

 private:
  off_t size_ = 0;
};

int DataSync(int fd) {
#if defined(__APPLE__)
  // fsync on macOS does not flush the drive's cache; F_FULLFSYNC does (as libuv does for Node).
  if (fcntl(fd, F_FULLFSYNC) == 0) return 0;
  return fsync(fd);
#else
  return fdatasync(fd);
#endif
}

}  // namespace

// One fdatasync covering several sync() calls (group commit). Its own deferred_ is unused; the
// callers' deferreds travel in waiters_.
class SyncWork : public FileWork {
 public:
  SyncWork(SegmentFile* file, std::vector<Napi::Promise::Deferred> waiters)
      : FileWork(file, "godel:sync", "fdatasync"), waiters_(std::move(waiters)) {
    GODEL_ASSERT(!waiters_.empty(), "a sync with nobody waiting");
  }

 protected:
  void Execute() override {
    if (RetryOnEintr([&] { return DataSync(fd_); }) != 0) err_ = errno;
  }

  void Settle(Napi::Env env) override {
    GODEL_ASSERT(file_->sync_in_flight_, "sync ended but none was in flight");
    file_->sync_in_flight_ = false;
    if (err_ == 0) file_->sync_count_++;
    for (Napi::Promise::Deferred& waiter : waiters_) {
      if (err_ != 0) {
        waiter.Reject(SystemError(env).Value());  // a fresh Error each, callers may annotate theirs
      } else {
        waiter.Resolve(env.Undefined());
      }
    }
    deferred_.Resolve(env.Undefined());
    // Calls that arrived during this sync may have followed writes it did not cover: one new
    // fdatasync for all of them. It is counted before WorkEnded runs, so close() keeps waiting.
    if (!file_->sync_queue_.empty()) {
      std::vector<Napi::Promise::Deferred> next;
      next.swap(file_->sync_queue_);
      file_->StartSync(std::move(next));
    }
  }

 private:
  std::vector<Napi::Promise::Deferred> waiters_;
};

class CloseWork : public FileWork {
 public:
  explicit CloseWork(SegmentFile* file) : FileWork(file, "godel:close", "close") {}

 protected:
  bool CountsAsWork() const override { return false; }

  void Execute() override {
    // No retry on EINTR: the descriptor is released either way, and retrying could close a
    // descriptor another thread has just been given.
    if (close(fd_) != 0 && errno != EINTR) err_ = errno;
  }

  void Settle(Napi::Env env) override {
    GODEL_ASSERT(file_->state_ == SegmentFile::State::kClosing, "close ended in the wrong state");
    file_->fd_ = -1;
    file_->state_ = SegmentFile::State::kClosed;
    std::vector<Napi::Promise::Deferred> waiters;
    waiters.swap(file_->close_waiters_);
    for (Napi::Promise::Deferred& waiter : waiters) {
      if (err_ != 0) {
        waiter.Reject(SystemError(env).Value());
      } else {
        waiter.Resolve(env.Undefined());
      }
    }
    deferred_.Resolve(env.Undefined());
  }
};

// ---- SegmentFile ------------------------------------------------------------------------------

Napi::Function SegmentFile::DefineClass(Napi::Env env) {
  return ObjectWrap<SegmentFile>::DefineClass(
      env, "SegmentFile",
      {
          InstanceMethod<&SegmentFile::Writev>("writev"),
          InstanceMethod<&SegmentFile::Sync>("sync"),
          InstanceMethod<&SegmentFile::Read>("read"),
          InstanceMethod<&SegmentFile::Truncate>("truncate"),
          InstanceMethod<&SegmentFile::Size>("size"),
          InstanceMethod<&SegmentFile::Close>("close"),
          InstanceAccessor<&SegmentFile::GetSyncCount>("syncCount"),
          InstanceAccessor<&SegmentFile::GetPath>("path"),
      });
}

SegmentFile::SegmentFile(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SegmentFile>(info) {
  Napi::Env env = info.Env();
  AddonData* data = GetAddonData(env);
  if (info.Length() != 3 || !info[0].IsExternal() ||
      info[0].As<Napi::External<AddonData>>().Data() != data) {
    Napi::TypeError::New(env, "SegmentFile cannot be constructed directly; use openSegmentFile()")
        .ThrowAsJavaScriptException();
    return;
  }
  GODEL_ASSERT(info[1].IsNumber() && info[2].IsString(), "new SegmentFile(token, fd, path)");
  fd_ = info[1].As<Napi::Number>().Int32Value();
  GODEL_ASSERT(fd_ >= 0, "SegmentFile needs an open descriptor");
  path_ = info[2].As<Napi::String>().Utf8Value();
  state_ = State::kOpen;
}

SegmentFile::~SegmentFile() {
  // Garbage-collected without close(): nothing can be in flight (every work item holds a strong
  // reference), so release the descriptor here rather than leak it.
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Napi::Value SegmentFile::RejectClosed(Napi::Env env, const char* syscall) {
  Napi::Error error = Napi::Error::New(env, std::string("EBADF: segment file is closed, ") + syscall +
                                                " '" + path_ + "'");
  error.Set("errno", Napi::Number::New(env, -EBADF));
  error.Set("code", Napi::String::New(env, "EBADF"));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, path_));
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(error.Value());
  return deferred.Promise();
}

void SegmentFile::Start(FileWork* work) {
  GODEL_ASSERT(state_ == State::kOpen, "work started on a file that is closing");
  works_in_flight_++;
  work->Queue();
}

void SegmentFile::WorkEnded() {
  GODEL_ASSERT(works_in_flight_ > 0, "more work ended than started");
  works_in_flight_--;
  if (works_in_flight_ == 0 && state_ == State::kClosing && !close_started_) StartClose();
}

void SegmentFile::StartSync(std::vector<Napi::Promise::Deferred> waiters) {
  GODEL_ASSERT(!sync_in_flight_, "two syncs in flight at once");
  sync_in_flight_ = true;
  // Counted even when close() has been called meanwhile: these sync() calls came before it.
  works_in_flight_++;
  (new SyncWork(this, std::move(waiters)))->Queue();
}

void SegmentFile::StartClose() {
  GODEL_ASSERT(works_in_flight_ == 0 && !sync_in_flight_ && sync_queue_.empty(),
               "close started with work in flight");
  close_started_ = true;
  (new CloseWork(this))->Queue();
}

Napi::Value SegmentFile::Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GODEL_ASSERT(info.Length() == 2 && info[0].IsArray() && info[1].IsNumber(),
               "writev(buffers: Uint8Array[], position: number)");
  if (state_ != State::kOpen) return RejectClosed(env, "write");
  const int64_t position = info[1].As<Napi::Number>().Int64Value();
  GODEL_ASSERT(position >= 0, "writev: negative position");
  Napi::Array buffers = info[0].As<Napi::Array>();
  const uint32_t count = buffers.Length();
  auto* work = new WritevWork(this, static_cast<off_t>(position));
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value buffer = buffers.Get(i);
    GODEL_ASSERT(buffer.IsTypedArray() &&
                     buffer.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array,
                 "writev: every buffer must be a Uint8Array");
    work->Add(buffer.As<Napi::Uint8Array>());
  }
  // Nothing to write (no buffers, or only empty ones) still takes the trip to the pool, so
  // writev settles in order with the other calls; Execute() then makes no system call.
  Napi::Promise promise = work->Promise();
  Start(work);
  return promise;
}

Napi::Value SegmentFile::Sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ != State::kOpen) return RejectClosed(env, "fdatasync");
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  Napi::Promise promise = deferred.Promise();
  if (sync_in_flight_) {
    sync_queue_.push_back(std::move(deferred));  // group commit: the next sync covers this call
  } else {
    std::vector<Napi::Promise::Deferred> waiters;
    waiters.push_back(std::move(deferred));
    StartSync(std::move(waiters));
  }
  return promise;
}

Napi::Value SegmentFile::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GODEL_ASSERT(info.Length() == 4 && info[0].IsTypedArray() && info[1].IsNumber() &&
                   info[2].IsNumber() && info[3].IsNumber(),
               "read(target: Uint8Array, targetOffset: number, length: number, position: number)");
  if (state_ != State::kOpen) return RejectClosed(env, "read");
  Napi::Uint8Array target = info[0].As<Napi::Uint8Array>();
  GODEL_ASSERT(target.TypedArrayType() == napi_uint8_array, "read: target must be a Uint8Array");
  const int64_t target_offset = info[1].As<Napi::Number>().Int64Value();
  const int64_t length = info[2].As<Napi::Number>().Int64Value();
  const int64_t position = info[3].As<Napi::Number>().Int64Value();
  GODEL_ASSERT(target_offset >= 0 && length >= 0 &&
                   static_cast<uint64_t>(target_offset) + static_cast<uint64_t>(length) <=
                       target.ByteLength(),
               "read: range outside the target");
  GODEL_ASSERT(position >= 0, "read: negative position");
  auto* work = new ReadWork(this, target, static_cast<size_t>(target_offset),
                            static_cast<size_t>(length), static_cast<off_t>(position));
  Napi::Promise promise = work->Promise();
  Start(work);
  return promise;
}

Napi::Value SegmentFile::Truncate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GODEL_ASSERT(info.Length() == 1 && info[0].IsNumber(), "truncate(size: number)");
  if (state_ != State::kOpen) return RejectClosed(env, "ftruncate");
  const int64_t size = info[0].As<Napi::Number>().Int64Value();
  GODEL_ASSERT(size >= 0, "truncate: negative size");
  auto* work = new TruncateWork(this, static_cast<off_t>(size));
  Napi::Promise promise = work->Promise();
  Start(work);
  return promise;
}

Napi::Value SegmentFile::Size(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ != State::kOpen) return RejectClosed(env, "fstat");
  auto* work = new SizeWork(this);
  Napi::Promise promise = work->Promise();
  Start(work);
  return promise;
}

Napi::Value SegmentFile::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  Napi::Promise promise = deferred.Promise();
  switch (state_) {
    case State::kClosed:
      deferred.Resolve(env.Undefined());  // closing twice is harmless, as for a FileHandle
      break;
    case State::kClosing:
      close_waiters_.push_back(std::move(deferred));
      break;
    case State::kOpen:
      state_ = State::kClosing;
      close_waiters_.push_back(std::move(deferred));
      if (works_in_flight_ == 0) StartClose();
      break;
  }
  return promise;
}

Napi::Value SegmentFile::GetSyncCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(sync_count_));
}

Napi::Value SegmentFile::GetPath(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), path_);
}

// ---- openSegmentFile --------------------------------------------------------------------------

namespace {

class OpenWork : public Napi::AsyncWorker {
 public:
  OpenWork(Napi::Env env, std::string path, bool create)
      : Napi::AsyncWorker(env, "godel:openSegmentFile"),
        path_(std::move(path)),
        create_(create),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    const int flags = O_RDWR | O_CLOEXEC | (create_ ? O_CREAT : 0);
    fd_ = RetryOnEintr([&] { return open(path_.c_str(), flags, 0644); });
    if (fd_ < 0) err_ = errno;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      deferred_.Reject(MakeSystemError(env, err_, "open", path_).Value());
      return;
    }
    AddonData* data = GetAddonData(env);
    Napi::Object file = data->segmentFileClass.New(
        {data->constructToken.Value(), Napi::Number::New(env, fd_), Napi::String::New(env, path_)});
    if (env.IsExceptionPending() || file.IsEmpty()) {
      close(fd_);
      deferred_.Reject(env.GetAndClearPendingException().Value());
      return;
    }
    deferred_.Resolve(file);
  }

 private:
  const std::string path_;
  const bool create_;
  Napi::Promise::Deferred deferred_;
  int fd_ = -1;
  int err_ = 0;
};

Napi::Value OpenSegmentFileJs(const Napi::CallbackInfo& info) {
  GODEL_ASSERT(info.Length() == 2 && info[0].IsString() && info[1].IsBoolean(),
               "openSegmentFile(path: string, create: boolean)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  GODEL_ASSERT(!path.empty() && path.find('\0') == std::string::npos,
               "openSegmentFile: path must be non-empty without NUL bytes");
  auto* work = new OpenWork(info.Env(), std::move(path), info[1].As<Napi::Boolean>().Value());
  Napi::Promise promise = work->Promise();
  work->Queue();
  return promise;
}

}  // namespace

void InitSegmentFile(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function cls = SegmentFile::DefineClass(env);
  data->segmentFileClass = Napi::Persistent(cls);
  data->constructToken = Napi::Persistent(Napi::External<AddonData>::New(env, data));
  exports.Set("SegmentFile", cls);
  exports.Set("openSegmentFile", Napi::Function::New(env, OpenSegmentFileJs, "openSegmentFile"));
}

}  // namespace godel

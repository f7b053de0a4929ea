// Shared by every native/*.cc file: the invariant check, and the per-instance (per napi_env) state.
//
// Arguments reach C++ already validated by ts/engine/validate.ts, so a bad argument here is a bug
// in the TypeScript wrapper, not user input: GODEL_ASSERT aborts the process with a message instead
// of returning an error, because carrying on would read or write memory outside a buffer.
#ifndef GODEL_NATIVE_COMMON_H_
#define GODEL_NATIVE_COMMON_H_

#include <napi.h>

#include <cstdio>
#include <cstdlib>

#define GODEL_ASSERT(cond, msg)                                                                   \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "godel_native: assertion failed at %s:%d: %s (%s)\n", __FILE__,      \
                   __LINE__, #cond, (msg));                                                     \
      std::fflush(stderr);                                                                      \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace godel {

// Bumped whenever the JS-visible shape of the addon changes, so ts/engine/native.ts can refuse a
// stale build/ left over from an older checkout instead of calling functions that moved.
constexpr uint32_t kAddonAbiVersion = 1;

// State that belongs to one napi_env (the main thread, or one worker_thread), set with
// env.SetInstanceData and deleted by Node when that env is torn down. Nothing else is global
// except the immutable CRC tables and the CPU-feature dispatch (process-wide facts).
struct AddonData {
  // The SegmentFile class; openSegmentFile constructs instances of it when an open completes.
  Napi::FunctionReference segmentFileClass;
  // Passed to the SegmentFile constructor as proof that the addon, not user code, is calling it.
  Napi::Reference<Napi::External<AddonData>> constructToken;
};

inline AddonData* GetAddonData(Napi::Env env) {
  AddonData* data = env.GetInstanceData<AddonData>();
  GODEL_ASSERT(data != nullptr, "addon instance data is missing");
  return data;
}

// Registration functions, one per .cc file; each adds its exports to `exports`.
void InitCrc32c(Napi::Env env, Napi::Object exports);
void InitIndexSearch(Napi::Env env, Napi::Object exports);
void InitSegmentFile(Napi::Env env, Napi::Object exports, AddonData* data);

}  // namespace godel

#endif  // GODEL_NATIVE_COMMON_H_

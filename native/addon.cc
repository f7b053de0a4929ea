// Entry point of godel_native.node: the storage hot path behind ts/engine/types.ts's LogEngine.
//
// Exports (each documented, with its argument layout, at the top of its own file):
//   abiVersion: number                         kAddonAbiVersion; native.ts refuses a mismatch
//   crc32c(data, start, end, initial)          crc32c.cc
//   crc32cImplementation: string               crc32c.cc (which CPU path is in use)
//   searchOffsetIndex(index, entries, target)  index_search.cc
//   searchTimeIndex(index, entries, target)    index_search.cc
//   openSegmentFile(path, create)              segment_file.cc
//   SegmentFile                                segment_file.cc (constructible only by the addon)
//
// Every call expects arguments already validated by ts/engine/validate.ts and asserts them again
// (GODEL_ASSERT aborts: a violation is a bug in native.ts, not bad user input). Built with
// NAPI_DISABLE_CPP_EXCEPTIONS and -fno-exceptions: no C++ exception exists to cross into JS;
// failures become rejected promises or thrown JS errors.
//
// The module is context-aware: per-env state (the SegmentFile class reference) lives in an
// AddonData set with env.SetInstanceData, which Node deletes when the env (main thread or a
// worker_thread) is torn down, so the addon can be loaded in several worker threads at once.
#include <napi.h>

#include "common.h"

namespace {

// Outside namespace godel: NODE_API_MODULE pastes this name into an identifier.
Napi::Object InitGodelNative(Napi::Env env, Napi::Object exports) {
  using namespace godel;
  auto* data = new AddonData();
  env.SetInstanceData(data);  // deleted by Node (default finalizer) at env teardown
  exports.Set("abiVersion", Napi::Number::New(env, kAddonAbiVersion));
  InitCrc32c(env, exports);
  InitIndexSearch(env, exports);
  InitSegmentFile(env, exports, data);
  return exports;
}

}  // namespace

NODE_API_MODULE(godel_native, InitGodelNative)

{
  "targets": [
    {
      "target_name": "godel_native",
      "sources": [
        "native/addon.cc",
        "native/crc32c.cc",
        "native/segment_file.cc",
        "native/index_search.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-O2", "-O0"],
      "cflags": ["-O3", "-Wall", "-Wextra", "-fno-exceptions", "-fvisibility=hidden"],
      "cflags_cc": ["-O3", "-std=c++17", "-Wall", "-Wextra", "-fno-exceptions", "-fvisibility=hidden"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "3"
      }
    }
  ]
}

# flowprune_native: the Node-API addon behind the `native` tfjs backend (see build.mjs, which
# locates oneDNN and passes its directories in FLOWPRUNE_DNNL_INCLUDE / FLOWPRUNE_DNNL_LIB).
{
  "targets": [
    {
      "target_name": "flowprune_native",
      "sources": [
        "src/addon.cc",
        "src/batchnorm.cc",
        "src/context.cc",
        "src/conv.cc",
        "src/elementwise.cc",
        "src/inference.cc",
        "src/layout.cc",
        "src/matmul.cc",
        "src/pool.cc",
        "src/winograd.cc"
      ],
      "include_dirs": ["<!(node -p \"process.env.FLOWPRUNE_DNNL_INCLUDE || '/usr/include'\")"],
      "libraries": [
        "-L<!(node -p \"process.env.FLOWPRUNE_DNNL_LIB || '/usr/lib'\")",
        "-Wl,-rpath,<!(node -p \"process.env.FLOWPRUNE_DNNL_LIB || '/usr/lib'\")",
        "-ldnnl"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"],
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}

# Toolchain for the wasm32-wasi build: Debian's clang-14, lld-14 and wasi-libc
# (the wasi-sdk route without wasi-sdk: Debian's clang finds the sysroot in
# /usr/{include,lib}/wasm32-wasi by itself), or a real wasi-sdk when the
# environment variable WASI_SDK_PATH names one (its clang and its sysroot).
#   cmake -S . -B build/wasm/wasi -DCMAKE_TOOLCHAIN_FILE=cmake/wasi-clang14.cmake
set(CMAKE_SYSTEM_NAME WASI)          # cmake/Platform/WASI.cmake, beside this file
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")

if(DEFINED ENV{WASI_SDK_PATH} AND NOT "$ENV{WASI_SDK_PATH}" STREQUAL "")
  set(_sdk "$ENV{WASI_SDK_PATH}")
  if(NOT EXISTS "${_sdk}/bin/clang" OR NOT EXISTS "${_sdk}/share/wasi-sysroot")
    message(FATAL_ERROR "WASI_SDK_PATH=${_sdk} has no bin/clang or share/wasi-sysroot")
  endif()
  set(CMAKE_C_COMPILER "${_sdk}/bin/clang")
  set(CMAKE_AR "${_sdk}/bin/llvm-ar" CACHE FILEPATH "")
  set(CMAKE_RANLIB "${_sdk}/bin/llvm-ranlib" CACHE FILEPATH "")
  set(CMAKE_SYSROOT "${_sdk}/share/wasi-sysroot")
else()
  set(CMAKE_C_COMPILER clang-14)
  set(CMAKE_AR llvm-ar-14 CACHE FILEPATH "")
  set(CMAKE_RANLIB llvm-ranlib-14 CACHE FILEPATH "")
endif()
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
# No wasm runtime at configure time: test the compiler by compiling only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

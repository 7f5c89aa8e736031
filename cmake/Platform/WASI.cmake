# CMake 3.25 (bookworm) has no WASI platform module of its own; this is the
# minimum it needs. Loaded through CMAKE_MODULE_PATH set in wasi-clang14.cmake.
set(WASI 1)
set(UNIX 1)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_STATIC_LIBRARY_PREFIX "lib")
set(CMAKE_STATIC_LIBRARY_SUFFIX ".a")

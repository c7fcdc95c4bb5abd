# Every third-party dependency comes from a Debian 12 package through
# pkg-config; a missing one fails here with the package to install.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config "
                      "(or run deploy/setup-debian.sh)")
endif()

function(sg_require var module debpkg)
  pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "pkg-config could not find '${module}': "
                        "apt-get install ${debpkg} (or run deploy/setup-debian.sh)")
  endif()
endfunction()

sg_require(LIBUV libuv libuv1-dev)
sg_require(NGHTTP2 libnghttp2 libnghttp2-dev)
sg_require(OPENSSL "openssl>=3.0" libssl-dev)
sg_require(HIREDIS hiredis libhiredis-dev)
sg_require(PROTOBUFC libprotobuf-c libprotobuf-c-dev)
sg_require(INIH inih libinih-dev)
# libxcrypt: yescrypt password hashes of the SMTP users file.
sg_require(LIBCRYPT libcrypt libcrypt-dev)
# GMime 3: MIME jobs turned into structured content (job/sg_mime_parse.c).
sg_require(GMIME gmime-3.0 libgmime-3.0-dev)

find_program(PROTOC_C protoc-c)
if(NOT PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: apt-get install protobuf-c-compiler "
                      "(or run deploy/setup-debian.sh)")
endif()

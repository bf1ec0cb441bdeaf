// SPDX-License-Identifier: MIT
// Name resolution: getaddrinfo copied into fdkit's own result, synchronously or on the
// worker pool in libuv's slow-I/O class.
#include <netdb.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "core/guard.h"
#include "loop/work.h"
#include "net/net.h"

namespace fdk {
namespace {

int map_flags(unsigned flags) {
  int ai = 0;
  if (flags & FDK_AI_PASSIVE) ai |= AI_PASSIVE;
  if (flags & FDK_AI_CANONNAME) ai |= AI_CANONNAME;
  if (flags & FDK_AI_NUMERICHOST) ai |= AI_NUMERICHOST;
  if (flags & FDK_AI_NUMERICSERV) ai |= AI_NUMERICSERV;
  if (flags & FDK_AI_ADDRCONFIG) ai |= AI_ADDRCONFIG;
  if (flags & FDK_AI_V4MAPPED) ai |= AI_V4MAPPED;
  if (flags & FDK_AI_ALL) ai |= AI_ALL;
  return ai;
}

// The resolver's EAI_* codes as the errno values fdk_getaddrinfo documents.
int map_error(int code) {
  switch (code) {
    case EAI_NONAME:
    case EAI_SERVICE:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
      return -ENOENT;
    case EAI_AGAIN: return -EAGAIN;
    case EAI_FAMILY: return -EAFNOSUPPORT;
    case EAI_SOCKTYPE: return -ESOCKTNOSUPPORT;
    case EAI_BADFLAGS: return -EINVAL;
    case EAI_MEMORY: return -ENOMEM;
    case EAI_OVERFLOW: return -EOVERFLOW;
    case EAI_SYSTEM: return neg_errno();
    default: return -EIO;
  }
}

// The failure of a lookup as fdk_getaddrinfo reports it; code is an EAI_* value.
int lookup_failure(int code, const char *host, const char *service) {
  int err = map_error(code);
  return fail(err, "getaddrinfo: %s: host '%s', service '%s'", code == EAI_SYSTEM ? errno_text(err) : gai_strerror(code),
              host ? host : "", service ? service : "");
}

// libuv's UV_EAI_* status back to the resolver's EAI_* code; anything else is a negative
// errno already (libuv's translation of EAI_SYSTEM).
int eai_code(int status) {
  switch (status) {
#ifdef EAI_ADDRFAMILY
    case UV_EAI_ADDRFAMILY: return EAI_ADDRFAMILY;
#endif
    case UV_EAI_AGAIN: return EAI_AGAIN;
    case UV_EAI_BADFLAGS: return EAI_BADFLAGS;
    case UV_EAI_FAIL: return EAI_FAIL;
    case UV_EAI_FAMILY: return EAI_FAMILY;
    case UV_EAI_MEMORY: return EAI_MEMORY;
#ifdef EAI_NODATA
    case UV_EAI_NODATA: return EAI_NODATA;
#endif
    case UV_EAI_NONAME: return EAI_NONAME;
    case UV_EAI_OVERFLOW: return EAI_OVERFLOW;
    case UV_EAI_SERVICE: return EAI_SERVICE;
    case UV_EAI_SOCKTYPE: return EAI_SOCKTYPE;
    default: return 0;
  }
}

addrinfo make_hints(int family, int socktype, int protocol, unsigned flags) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_protocol = protocol;
  hints.ai_flags = map_flags(flags);
  return hints;
}

// The resolver's list copied into fdkit's own result.
int copy_result(const addrinfo *list, const char *host, fdk_addrinfo **out) {
  auto result = std::make_unique<fdk_addrinfo>();
  for (const addrinfo *a = list; a; a = a->ai_next) {
    fdk_addrinfo::Entry e{a->ai_family, a->ai_socktype, a->ai_protocol, a->ai_addrlen, {}};
    if (a->ai_addrlen > sizeof e.addr) continue;
    memcpy(&e.addr, a->ai_addr, a->ai_addrlen);
    result->entries.push_back(e);
  }
  if (result->entries.empty()) return fail(-ENOENT, "getaddrinfo: no usable address: host '%s'", host ? host : "");
  if (list->ai_canonname) {
    result->canonname = list->ai_canonname;
    result->has_canonname = true;
  }
  *out = result.release();
  return 0;
}

// An asynchronous lookup through uv_getaddrinfo, which libuv counts as slow I/O: lookups
// take at most half of the worker pool, so a slow resolver never starves the other work.
class LookupOp final : public fdk_op {
 public:
  LookupOp(fdk_loop *loop, const char *host, const char *service, fdk_addrinfo_cb cb, void *data)
      : fdk_op(loop),
        host_(host ? host : ""),
        service_(service ? service : ""),
        has_host_(host != nullptr),
        has_service_(service != nullptr),
        cb_(cb),
        data_(data) {
    req_.data = this;
  }

  int start(const addrinfo &hints, fdk_op **out) {
    span_.begin("getaddrinfo", -1, host(), loop);
    return submitted(this, span_, uv_getaddrinfo(loop->uv, &req_, on_done, host(), service(), &hints), "getaddrinfo",
                     out);
  }

  // on_done then sees UV_EAI_CANCELED, or the result of a lookup that had started.
  void cancel() override { cancel_request(reinterpret_cast<uv_req_t *>(&req_), cancelled_); }

  void deliver(int64_t r) override {
    span_.end(r);
    cb_(static_cast<int>(r), r < 0 ? nullptr : result_.release(), data_);
  }

 private:
  const char *host() const { return has_host_ ? host_.c_str() : nullptr; }
  const char *service() const { return has_service_ ? service_.c_str() : nullptr; }

  static void on_done(uv_getaddrinfo_t *req, int status, addrinfo *list) {
    auto *op = static_cast<LookupOp *>(req->data);
    std::unique_ptr<addrinfo, void (*)(addrinfo *)> owned(list, uv_freeaddrinfo);
    Dispatch scope(op->loop);
    if (op->cancelled_ || status == UV_EAI_CANCELED) {
      op_complete_with_detail(op, -ECANCELED, "getaddrinfo: operation cancelled");
      return;
    }
    int r = guard("getaddrinfo", [&] {
      if (status < 0) {
        int code = eai_code(status);
        return code ? lookup_failure(code, op->host(), op->service())
                    : fail_sys(status, "getaddrinfo");
      }
      fdk_addrinfo *res = nullptr;
      int c = copy_result(list, op->host(), &res);
      op->result_.reset(res);
      return c;
    });
    op_complete(op, r);
  }

  uv_getaddrinfo_t req_{};
  std::string host_, service_;
  bool has_host_, has_service_;
  fdk_addrinfo_cb cb_;
  void *data_;
  bool cancelled_ = false;
  std::unique_ptr<fdk_addrinfo> result_;
  Span span_;
};

}  // namespace

int getaddrinfo(fdk_addrinfo **out, const char *host, const char *service, int family, int socktype, int protocol,
                unsigned flags) {
  addrinfo hints = make_hints(family, socktype, protocol, flags);
  addrinfo *list = nullptr;
  int code = ::getaddrinfo(host, service, &hints, &list);
  if (code != 0) return lookup_failure(code, host, service);
  std::unique_ptr<addrinfo, void (*)(addrinfo *)> owned(list, freeaddrinfo);
  return copy_result(list, host, out);
}

int getaddrinfo_async(fdk_loop *loop, const char *host, const char *service, int family, int socktype, int protocol,
                      unsigned flags, fdk_addrinfo_cb cb, void *data, fdk_op **op) {
  auto *lookup = new LookupOp(loop, host, service, cb, data);
  int r = lookup->start(make_hints(family, socktype, protocol, flags), op);
  if (r < 0) delete lookup;
  return r;
}

}  // namespace fdk

// Name resolution: getaddrinfo copied into fdkit's own result, synchronously or on the
// worker pool.
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

}  // namespace

int getaddrinfo(fdk_addrinfo **out, const char *host, const char *service, int family, int socktype, int protocol,
                unsigned flags) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_protocol = protocol;
  hints.ai_flags = map_flags(flags);
  addrinfo *list = nullptr;
  int code = ::getaddrinfo(host, service, &hints, &list);
  if (code != 0) {
    int err = map_error(code);
    return fail(err, "getaddrinfo: host '%s', service '%s': %s", host ? host : "", service ? service : "",
                code == EAI_SYSTEM ? strerror(-err) : gai_strerror(code));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo *)> owned(list, freeaddrinfo);
  auto result = std::make_unique<fdk_addrinfo>();
  for (const addrinfo *a = list; a; a = a->ai_next) {
    fdk_addrinfo::Entry e{a->ai_family, a->ai_socktype, a->ai_protocol, a->ai_addrlen, {}};
    if (a->ai_addrlen > sizeof e.addr) continue;
    memcpy(&e.addr, a->ai_addr, a->ai_addrlen);
    result->entries.push_back(e);
  }
  if (result->entries.empty()) return fail(-ENOENT, "getaddrinfo: host '%s': no usable address", host ? host : "");
  if (list->ai_canonname) {
    result->canonname = list->ai_canonname;
    result->has_canonname = true;
  }
  *out = result.release();
  return 0;
}

namespace {

struct ResolveTask {
  std::string host, service;
  bool has_host, has_service;
  int family, socktype, protocol;
  unsigned flags;
  fdk_addrinfo_cb cb;
  void *data;
  std::unique_ptr<fdk_addrinfo> result;

  int64_t run() {
    return guard("getaddrinfo", [&] {
      fdk_addrinfo *res = nullptr;
      int r = getaddrinfo(&res, has_host ? host.c_str() : nullptr, has_service ? service.c_str() : nullptr, family,
                      socktype, protocol, flags);
      result.reset(res);
      return r;
    });
  }
  void deliver(int64_t r) { cb(static_cast<int>(r), r < 0 ? nullptr : result.release(), data); }
  void discard(int64_t) { result.reset(); }
  const char *trace_path() const { return has_host ? host.c_str() : nullptr; }
};

}  // namespace

int getaddrinfo_async(fdk_loop *loop, const char *host, const char *service, int family, int socktype, int protocol,
                      unsigned flags, fdk_addrinfo_cb cb, void *data, fdk_op **op) {
  ResolveTask task{host ? host : "", service ? service : "", host != nullptr, service != nullptr, family, socktype,
                   protocol, flags, cb, data, nullptr};
  return start_work(loop, std::move(task), op, "getaddrinfo");
}

}  // namespace fdk

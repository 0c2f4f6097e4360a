/*
 * LD_PRELOAD shim that lets BlueZ's btvirt serve emulated LE controllers on kernels that
 * refuse AF_ALG sockets, and keeps several btvirt processes apart.
 *
 * Why each piece exists:
 * - btvirt's LE controller sets up its crypto helper with socket(AF_ALG) + bind() at start;
 *   when that fails the controller never comes up and every LE client sees EPIPE. Here an
 *   AF_ALG socket is a placeholder descriptor on which bind() and setsockopt() succeed and
 *   accept() fails, so the controller starts. Link-layer pairing and encryption cannot work
 *   with it; certsync does not use them (its sessions encrypt end to end).
 * - btvirt writes to its clients without blocking and drops a packet when the client's
 *   socket buffer is full. Every accepted connection gets a large send buffer
 *   (SO_SNDBUFFORCE, needing CAP_NET_ADMIN; SO_SNDBUF up to the system cap otherwise).
 * - btvirt binds its server sockets at fixed paths under /tmp. With CERTSYNC_BTVIRT_DIR set,
 *   those paths move into that folder, so concurrent test runs each get their own radio.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif

#define FIXED_PREFIX "/tmp/bt-server-"
#define MAX_TRACKED_FD 4096
#define SEND_BUFFER_BYTES (8 * 1024 * 1024)

/* btvirt is single-threaded (one epoll loop), so a plain table is enough. */
static unsigned char placeholder_fd[MAX_TRACKED_FD];

static void *next_symbol(const char *name) {
  void *fn = dlsym(RTLD_NEXT, name);
  if (fn == NULL) {
    fprintf(stderr, "btvirt preload: no next symbol %s\n", name);
    abort();
  }
  return fn;
}

static int is_placeholder(int fd) {
  return fd >= 0 && fd < MAX_TRACKED_FD && placeholder_fd[fd];
}

/* Writes the relocated form of a fixed btvirt path into out; returns 0 if not relocated. */
static int relocate(const char *path, char *out, size_t size) {
  const char *dir = getenv("CERTSYNC_BTVIRT_DIR");
  if (dir == NULL || dir[0] == '\0' || strncmp(path, FIXED_PREFIX, strlen(FIXED_PREFIX)) != 0)
    return 0;
  int n = snprintf(out, size, "%s/%s", dir, path + strlen("/tmp/"));
  return n > 0 && (size_t)n < size;
}

int socket(int domain, int type, int protocol) {
  int (*real_socket)(int, int, int) = next_symbol("socket");
  if (domain != AF_ALG) return real_socket(domain, type, protocol);
  int flags = type & (SOCK_CLOEXEC | SOCK_NONBLOCK);
  int fd = real_socket(AF_UNIX, SOCK_SEQPACKET | flags, 0);
  if (fd >= MAX_TRACKED_FD) {
    close(fd);
    errno = EMFILE;
    return -1;
  }
  if (fd >= 0) placeholder_fd[fd] = 1;
  return fd;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  int (*real_bind)(int, const struct sockaddr *, socklen_t) = next_symbol("bind");
  if (is_placeholder(fd)) return 0;
  if (addr != NULL && addr->sa_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
    const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
    struct sockaddr_un moved = {.sun_family = AF_UNIX};
    if (relocate(un->sun_path, moved.sun_path, sizeof moved.sun_path))
      return real_bind(fd, (const struct sockaddr *)&moved, sizeof moved);
  }
  return real_bind(fd, addr, len);
}

int unlink(const char *path) {
  int (*real_unlink)(const char *) = next_symbol("unlink");
  char moved[sizeof(((struct sockaddr_un *)0)->sun_path)];
  if (path != NULL && relocate(path, moved, sizeof moved)) return real_unlink(moved);
  return real_unlink(path);
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len) {
  int (*real_setsockopt)(int, int, int, const void *, socklen_t) = next_symbol("setsockopt");
  if (is_placeholder(fd)) return 0;
  return real_setsockopt(fd, level, name, value, len);
}

static int widen_send_buffer(int fd) {
  int (*real_setsockopt)(int, int, int, const void *, socklen_t) = next_symbol("setsockopt");
  int bytes = SEND_BUFFER_BYTES;
  if (real_setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
    real_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  return fd;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
  int (*real_accept)(int, struct sockaddr *, socklen_t *) = next_symbol("accept");
  if (is_placeholder(fd)) {
    errno = EOPNOTSUPP;
    return -1;
  }
  int conn = real_accept(fd, addr, len);
  return conn < 0 ? conn : widen_send_buffer(conn);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
  int (*real_accept4)(int, struct sockaddr *, socklen_t *, int) = next_symbol("accept4");
  if (is_placeholder(fd)) {
    errno = EOPNOTSUPP;
    return -1;
  }
  int conn = real_accept4(fd, addr, len, flags);
  return conn < 0 ? conn : widen_send_buffer(conn);
}

int close(int fd) {
  int (*real_close)(int) = next_symbol("close");
  if (fd >= 0 && fd < MAX_TRACKED_FD) placeholder_fd[fd] = 0;
  return real_close(fd);
}

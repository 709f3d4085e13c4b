#ifdef __linux__
#define _GNU_SOURCE
#include "CRelayIO.h"
#include <stddef.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(struct crelay_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");
_Static_assert(offsetof(struct crelay_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr layout");

int crelay_recvmmsg(int fd, struct crelay_mmsghdr *vec, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)vec, count, flags, NULL);
}

int crelay_sendmmsg(int fd, struct crelay_mmsghdr *vec, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)vec, count, flags);
}

int crelay_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int crelay_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event ev = { .events = EPOLLIN, .data = { .u64 = token } };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int crelay_epoll_set(int epfd, int add, int fd, uint64_t token, int in, int out) {
    struct epoll_event ev = { .events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0), .data = { .u64 = token } };
    return epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

int crelay_epoll_del(int epfd, int fd) {
    struct epoll_event ev = { 0 };
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

int crelay_epoll_wait(int epfd, uint64_t *tokens, uint32_t *ready, int max, int timeout_ms) {
    struct epoll_event evs[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        tokens[i] = evs[i].data.u64;
        // Errors and hang-ups count as readable: the read that follows reports them.
        ready[i] = (evs[i].events & EPOLLOUT) ? 1 : 0;
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) ready[i] |= 2;
    }
    return n;
}
void crelay_name_this_thread(const char *name) {
    char shortName[16];
    strncpy(shortName, name, sizeof shortName - 1);
    shortName[sizeof shortName - 1] = 0;
    pthread_setname_np(pthread_self(), shortName);
}

// Not <netinet/udp.h> or <linux/udp.h>: their struct udphdr clashes with
// CNIOLinux's when both modules are imported. The two numbers are ABI.
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

size_t crelay_udp_segment_space(void) { return CMSG_SPACE(sizeof(uint16_t)); }

size_t crelay_udp_segment_control(void *buffer, uint16_t segment_size) {
    memset(buffer, 0, CMSG_SPACE(sizeof(uint16_t)));
    struct cmsghdr *c = (struct cmsghdr *)buffer;
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(c), &segment_size, sizeof(uint16_t));
    return CMSG_SPACE(sizeof(uint16_t));
}

int crelay_udp_segment_supported(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int value = 0;
    socklen_t length = sizeof(value);
    int ok = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &value, &length) == 0;
    close(fd);
    return ok;
}

#else
// Nothing on other systems; an empty translation unit is not allowed.
typedef int crelay_unused;
#endif

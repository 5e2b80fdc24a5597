/* ingest_httpd.c - a minimal static HTTP/1.1 file server for bench/ingest.sh:
 * GET with an optional single Range, keep-alive, one thread per connection,
 * bodies sent with sendfile(2) so the server costs as little CPU as possible
 * and the benchmark measures the client (mwa-down or curl), not the server.
 * Listens on 127.0.0.1 only, writes its port to a file, exits after
 * --lifetime seconds. Not a general server: no paths with '/', no escapes.
 * usage: ingest_httpd ROOT PORTFILE LIFETIME_SECONDS */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root;

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *serve(void *arg)
{
    int c = (int)(long)arg;
    char req[8192];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
            if (have == sizeof req) goto out;
            ssize_t n = recv(c, req + have, sizeof req - have, 0);
            if (n <= 0) goto out;
            have += (size_t)n;
        }
        size_t used = (size_t)(end + 4 - req);
        end[2] = 0;
        char path[1024] = "", hdr[512];
        long long a = -1, b = -1;
        sscanf(req, "GET /%1000s", path);
        char *r = strcasestr(req, "\r\nRange: bytes=");
        if (r) {
            if (sscanf(r + 15, "%lld-%lld", &a, &b) < 1) a = -1;
        }
        char full[2048];
        snprintf(full, sizeof full, "%s/%s", root, path);
        int fd = strchr(path, '/') || path[0] == '.' ? -1 : open(full, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st)) {
            const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            if (send_all(c, nf, strlen(nf))) goto out;
        } else {
            long long size = st.st_size, start = 0, last = size - 1;
            int code = 200;
            if (a >= 0 && a < size) {
                start = a;
                if (b >= 0 && b < size) last = b;
                code = 206;
            }
            int n = snprintf(hdr, sizeof hdr,
                             "HTTP/1.1 %d %s\r\nContent-Length: %lld\r\n"
                             "Accept-Ranges: bytes\r\n",
                             code, code == 200 ? "OK" : "Partial Content", last - start + 1);
            if (code == 206)
                n += snprintf(hdr + n, sizeof hdr - (size_t)n,
                              "Content-Range: bytes %lld-%lld/%lld\r\n", start, last, size);
            n += snprintf(hdr + n, sizeof hdr - (size_t)n, "\r\n");
            if (send_all(c, hdr, (size_t)n)) goto out;
            off_t off = start;
            long long left = last - start + 1;
            while (left > 0) {
                ssize_t s = sendfile(c, fd, &off, left > (1 << 30) ? (1 << 30) : (size_t)left);
                if (s < 0 && errno == EINTR) continue;
                if (s <= 0) break;
                left -= s;
            }
            close(fd);
            if (left) goto out;
        }
        memmove(req, req + used, have - used);
        have -= used;
    }
out:
    close(c);
    return NULL;
}

static void *timer(void *arg)
{
    sleep((unsigned)(long)arg);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ingest_httpd ROOT PORTFILE LIFETIME_SECONDS\n");
        return 2;
    }
    root = argv[1];
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) || listen(s, 64) ||
        getsockname(s, (struct sockaddr *)&sa, &sl)) {
        perror("ingest_httpd");
        return 1;
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (!f) return 1;
    fprintf(f, "%d\n", ntohs(sa.sin_port));
    fclose(f);
    rename(tmp, argv[2]);
    pthread_t t;
    pthread_create(&t, NULL, timer, (void *)(long)atol(argv[3]));
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        pthread_t w;
        if (pthread_create(&w, NULL, serve, (void *)(long)c) == 0)
            pthread_detach(w);
        else
            close(c);
    }
}

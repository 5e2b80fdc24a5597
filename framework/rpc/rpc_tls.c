/* rpc_tls.c - the credentials half of rpc.h: PEM files into gRPC's SSL
 * credentials (server and channel), and the bearer credential every call
 * carries. Only this file and its two siblings see grpc headers. */
#include "rpc/rpc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "util/buf.h"

/* The whole of a PEM file, or NULL with err filled. */
static char *read_pem(const char *what, const char *path, sl_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        sl_errf(err, SL_EIO, "cannot read the TLS %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    sl_buf b = SL_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1u << 20))
        sl_buf_append(&b, chunk, n);
    fclose(f);
    sl_buf_reserve(&b, 0);
    if (!b.len || !strstr(b.data, "-----BEGIN ")) {
        sl_errf(err, SL_EINVAL, "TLS %s %s is not a PEM file", what, path);
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_steal(&b);
}

grpc_server_credentials *sl_rpc_server_creds(const sl_rpc_tls *tls, sl_err *err)
{
    if (!tls || (!tls->cert_file && !tls->key_file))
        return grpc_insecure_server_credentials_create();
    if (!tls->cert_file || !tls->key_file) {
        sl_errf(err, SL_EINVAL, "TLS needs both a certificate and its key");
        return NULL;
    }
    char *cert = read_pem("certificate", tls->cert_file, err);
    char *key = cert ? read_pem("key", tls->key_file, err) : NULL;
    char *ca = key && tls->ca_file ? read_pem("CA", tls->ca_file, err) : NULL;
    grpc_server_credentials *c = NULL;
    if (key && (!tls->ca_file || ca)) {
        grpc_ssl_pem_key_cert_pair pair = {key, cert};
        c = grpc_ssl_server_credentials_create_ex(
            ca, &pair, 1,
            ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
        if (!c) sl_errf(err, SL_EINVAL, "gRPC refused the TLS certificate %s", tls->cert_file);
    }
    if (key) memset(key, 0, strlen(key));
    free(cert);
    free(key);
    free(ca);
    return c;
}

grpc_channel_credentials *sl_rpc_channel_creds(const sl_rpc_tls *tls, sl_err *err)
{
    if (!tls || !tls->ca_file) return grpc_insecure_credentials_create();
    char *ca = read_pem("CA", tls->ca_file, err);
    if (!ca) return NULL;
    char *cert = NULL, *key = NULL;
    if (tls->cert_file && tls->key_file) {
        cert = read_pem("certificate", tls->cert_file, err);
        key = cert ? read_pem("key", tls->key_file, err) : NULL;
        if (!key) {
            free(ca);
            free(cert);
            return NULL;
        }
    }
    grpc_ssl_pem_key_cert_pair pair = {key, cert};
    grpc_channel_credentials *c = grpc_ssl_credentials_create(ca, key ? &pair : NULL, NULL, NULL);
    if (!c) sl_errf(err, SL_EINVAL, "gRPC refused the TLS CA %s", tls->ca_file);
    if (key) memset(key, 0, strlen(key));
    free(ca);
    free(cert);
    free(key);
    return c;
}

int sl_rpc_bearer(const grpc_metadata_array *md, const char **cred, size_t *len)
{
    static const char key[] = "authorization", scheme[] = "Bearer ";
    for (size_t i = 0; i < md->count; i++) {
        const grpc_metadata *m = &md->metadata[i];
        size_t kl = GRPC_SLICE_LENGTH(m->key), vl = GRPC_SLICE_LENGTH(m->value);
        const char *v = (const char *)GRPC_SLICE_START_PTR(m->value);
        if (kl != sizeof key - 1 || memcmp(GRPC_SLICE_START_PTR(m->key), key, kl) != 0) continue;
        if (vl <= sizeof scheme - 1 || memcmp(v, scheme, sizeof scheme - 1) != 0) return -1;
        *cred = v + sizeof scheme - 1;
        *len = vl - (sizeof scheme - 1);
        return 0;
    }
    return -1;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The email integration: one MIME message (multipart/alternative with the
 * rendered text and HTML bodies) sent over SMTP with libcurl. The headers
 * (Subject, To, From and any configured ones) are templates; STARTTLS is
 * required when require_tls is true (the default) and not attempted
 * otherwise, like Alertmanager; port 465 means implicit TLS. The EHLO name
 * is the configured `hello`. */
#include "alerts/am_int.h"

#include "core/err.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef struct reader {
    const char *p;
    size_t left;
} reader_t;

static size_t read_cb(char *buf, size_t sz, size_t nmemb, void *ctx)
{
    reader_t *r = ctx;
    size_t n = sz * nmemb < r->left ? sz * nmemb : r->left;
    memcpy(buf, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

/* The address part of "Name <a@b>" or "a@b", trimmed, into out. */
static void addr_of(const char *s, size_t len, char *out, size_t cap)
{
    const char *lt = memchr(s, '<', len), *gt = lt ? memchr(lt, '>', len - (size_t)(lt - s)) : NULL;
    if (lt && gt) s = lt + 1, len = (size_t)(gt - lt - 1);
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    snprintf(out, cap, "<%.*s>", (int)len, s);
}

int trn__am_send_email(const trn_am_integration_t *in, const trn__am_notification_t *n, char *err,
                       size_t err_len)
{
    trn__am_tctx_t t;
    int rc = trn__am_tctx_init(&t, in, n);
    const char *to = trn__am_tx(&t, "to"), *from = trn__am_tx(&t, "from");
    const char *html = trn__am_tx(&t, "html"), *text = trn__am_tx(&t, "text");
    trn_buf_t m;
    trn_buf_init(&m);
    for (size_t i = 0; i < in->n_details; i++) {
        const char *v = trn__am_tx_detail(&t, i);
        trn_buf_printf(&m, "%s: ", in->details[i].key);
        for (const char *p = v; *p; p++)
            if (*p != '\r' && *p != '\n') trn_buf_putc(&m, *p);
        trn_buf_puts(&m, "\r\n");
    }
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    unsigned char rnd[12];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, 7, sizeof rnd);
    char boundary[40];
    snprintf(boundary, sizeof boundary, "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10],
             rnd[11]);
    trn_buf_printf(&m,
                   "Date: %s\r\nMessage-Id: <%ld.%s@trine>\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: multipart/alternative; boundary=%s\r\n\r\n",
                   date, (long)now, boundary, boundary);
    if (*text)
        trn_buf_printf(&m, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n%s\r\n",
                       boundary, text);
    if (*html)
        trn_buf_printf(&m, "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n%s\r\n", boundary,
                       html);
    trn_buf_printf(&m, "--%s--\r\n", boundary);
    if (rc == 0 && t.d.code) {
        snprintf(err, err_len, "template: %s", t.d.msg);
        rc = TRN_EINVAL;
    }
    CURL *c = rc == 0 ? curl_easy_init() : NULL;
    struct curl_slist *rcpt = NULL;
    if (rc == 0 && !c) {
        snprintf(err, err_len, "cannot create an SMTP client");
        rc = TRN_EIO;
    }
    if (rc == 0) {
        const char *host = trn_am_integration_opt(in, "smarthost");
        const char *colon = strrchr(host, ':');
        bool smtps = colon && !strcmp(colon + 1, "465");
        char url[512];
        snprintf(url, sizeof url, "%s://%s/%s", smtps ? "smtps" : "smtp", host,
                 trn_am_integration_opt(in, "hello"));
        char addr[300];
        addr_of(from, strlen(from), addr, sizeof addr);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
        for (const char *p = to; *p;) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            addr_of(p, len, addr, sizeof addr);
            if (strcmp(addr, "<>")) rcpt = curl_slist_append(rcpt, addr);
            p += len + (e ? 1 : 0);
        }
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        bool tls = !strcmp(trn_am_integration_opt(in, "require_tls"), "true");
        if (!smtps)
            curl_easy_setopt(c, CURLOPT_USE_SSL, (long)(tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
        const char *user = trn_am_integration_opt(in, "auth_username");
        if (*user) {
            curl_easy_setopt(c, CURLOPT_USERNAME, user);
            curl_easy_setopt(c, CURLOPT_PASSWORD, trn_am_integration_opt(in, "auth_password"));
        }
        reader_t r = {m.data, m.len};
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, &r);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        CURLcode cc = curl_easy_perform(c);
        if (cc != CURLE_OK) {
            long code = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            snprintf(err, err_len, "smtp: %s (code %ld)", curl_easy_strerror(cc), code);
            rc = code >= 500 && code < 600 ? TRN_EINVAL : TRN_EIO;
        }
    }
    curl_slist_free_all(rcpt);
    if (c) curl_easy_cleanup(c);
    trn_buf_fini(&m);
    trn__am_tctx_fini(&t);
    return rc;
}

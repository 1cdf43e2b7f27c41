/* SPDX-License-Identifier: Apache-2.0 */
/* The one parser for Prometheus's text exposition format 0.0.4 and
 * OpenMetrics 1.0 (# TYPE, # HELP, # UNIT, escaping, +Inf/NaN, optional
 * timestamps, exemplars after " # ", "# EOF"). Shared by
 * /api/v1/import/prometheus and scraping. It is a pull parser over a
 * borrowed buffer: no allocation per line; label views point into the
 * buffer or, when unescaping was needed, into the parser's scratch arena. */
#ifndef TRN_INGEST_EXPOSITION_H
#define TRN_INGEST_EXPOSITION_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TRN_EXPO_TEXT = 0,        /* text/plain; version=0.0.4 */
    TRN_EXPO_OPENMETRICS = 1, /* application/openmetrics-text */
} trn_expo_format_t;

typedef enum {
    TRN_EXPO_EOF = 0,    /* end of input (or "# EOF") */
    TRN_EXPO_SAMPLE = 1, /* a sample line */
    TRN_EXPO_TYPE = 2,   /* # TYPE */
    TRN_EXPO_HELP = 3,   /* # HELP */
    TRN_EXPO_UNIT = 4,   /* # UNIT */
} trn_expo_entry_t;

typedef struct trn_expo_sample {
    trn_labels_t labels; /* sorted, including __name__, labels with empty values dropped,
                          * duplicate names rejected; views valid until the next call */
    double value;
    bool has_timestamp;
    int64_t t_ms; /* OpenMetrics seconds are converted to ms */
    bool has_exemplar;
    trn_labels_t exemplar_labels;
    double exemplar_value;
    bool exemplar_has_ts;
    int64_t exemplar_t_ms;
} trn_expo_sample_t;

typedef struct trn_expo_meta {
    trn_str_t metric; /* family name */
    trn_str_t text;   /* type name ("counter", ...), help text (unescaped), or unit */
} trn_expo_meta_t;

typedef struct trn_expo_parser trn_expo_parser_t;

/* Parser over buf[0..len) (borrowed for the parser's life). max_labels
 * bounds labels per sample (0 = 256). */
trn_expo_parser_t *trn_expo_parser_new(const char *buf, size_t len, trn_expo_format_t fmt,
                                       size_t max_labels);
void trn_expo_parser_free(trn_expo_parser_t *p);
/* Format from a Content-Type header (NULL -> text). */
trn_expo_format_t trn_expo_format_from_content_type(const char *content_type);
/* Next entry. Returns the entry kind (>= 0) and fills *s or *m, or a
 * negative TRN_E* with d naming the line, column and problem (the message
 * starts "line L:C: "). After an error the parser stays at the failing
 * line and every later call returns the same error; the caller decides
 * whether to stop (import rejects the request, scraping fails the scrape).
 * OpenMetrics input must end with "# EOF"; in the text format "# EOF" is
 * an ordinary comment. */
int trn_expo_next(trn_expo_parser_t *p, trn_expo_sample_t *s, trn_expo_meta_t *m, trn_diag_t *d);
/* 1-based line number of the entry last returned. */
int trn_expo_line(const trn_expo_parser_t *p);

#endif

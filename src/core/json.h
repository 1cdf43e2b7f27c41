/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming JSON writer into a trn_buf_t. Commas are inserted for the
 * caller; strings are escaped (invalid UTF-8 bytes become U+FFFD). */
#ifndef TRN_CORE_JSON_H
#define TRN_CORE_JSON_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

#define TRN_JSON_DEPTH_MAX 64

typedef struct trn_json {
    trn_buf_t *b; /* borrowed output */
    int depth;
    bool after_key;
    bool has_item[TRN_JSON_DEPTH_MAX];
} trn_json_t;

void trn_json_init(trn_json_t *j, trn_buf_t *out);
void trn_json_obj_begin(trn_json_t *j);
void trn_json_obj_end(trn_json_t *j);
void trn_json_arr_begin(trn_json_t *j);
void trn_json_arr_end(trn_json_t *j);
void trn_json_key(trn_json_t *j, const char *k);
void trn_json_keyn(trn_json_t *j, const char *k, size_t n);
void trn_json_str(trn_json_t *j, const char *s);
void trn_json_strn(trn_json_t *j, const char *s, size_t n);
void trn_json_int(trn_json_t *j, int64_t v);
void trn_json_uint(trn_json_t *j, uint64_t v);
/* A JSON number; NaN/Inf are not numbers in JSON and are written as null. */
void trn_json_num(trn_json_t *j, double v);
/* A float as a JSON string in Prometheus's format ("1.5", "NaN", "+Inf"). */
void trn_json_float_str(trn_json_t *j, double v);
void trn_json_bool(trn_json_t *j, bool v);
void trn_json_null(trn_json_t *j);
/* Inserts pre-encoded JSON text as one value. */
void trn_json_raw(trn_json_t *j, const char *s, size_t n);
/* Appends s escaped as a JSON string body (no quotes) to out. */
void trn_json_escape(trn_buf_t *out, const char *s, size_t n);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Common includes for cmocka unit tests. */
#ifndef TRN_TESTS_UNIT_TEST_H
#define TRN_TESTS_UNIT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#endif

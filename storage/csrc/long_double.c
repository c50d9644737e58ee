/* INCRBYFLOAT arithmetic in the C `long double` type.
 *
 * redis-server parses, adds and prints INCRBYFLOAT operands as `long double` (80-bit extended
 * precision on x86-64) and prints the result with "%.17Lf" minus trailing zeros. Rust has no
 * such type, and the last digits of the reply depend on it, so this small file does exactly
 * that arithmetic with the platform's C library. */

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest operand accepted, as redis-server's MAX_LONG_DOUBLE_CHARS. */
#define MAX_CHARS (5 * 1024)

/* Parses `s` (not NUL-terminated) strictly. Returns 1 on success. */
static int parse(const char *s, size_t len, long double *out) {
    char buf[MAX_CHARS];
    char *end;
    long double v;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Adds `incr` to `cur` (or to 0 when `cur` is NULL) and writes the result to `out`.
 * Returns the result's length, -1 if an operand is not a valid float, -2 if the result is
 * NaN or infinite. `out_cap` must be at least MAX_CHARS. */
long cachegate_incrbyfloat(const char *cur, size_t cur_len, const char *incr, size_t incr_len,
                           char *out, size_t out_cap) {
    long double value = 0, delta;
    int n;
    if (cur != NULL && !parse(cur, cur_len, &value)) return -1;
    if (!parse(incr, incr_len, &delta)) return -1;
    value += delta;
    if (isnan(value) || isinf(value)) return -2;
    n = snprintf(out, out_cap, "%.17Lf", value);
    if (n < 0 || (size_t)n + 1 > out_cap) return -2;
    if (strchr(out, '.') != NULL) {
        while (n > 0 && out[n - 1] == '0') n--;
        if (n > 0 && out[n - 1] == '.') n--;
    }
    if (n == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        n = 1;
    }
    out[n] = '\0';
    return n;
}

/* A blocking command's timeout (BLPOP & co.): seconds parsed as a long double, turned into
 * whole milliseconds rounded up, as redis-server's getTimeoutFromObjectOrReply does.
 * Returns 1 and sets *ms, or 0 if `s` is not a valid float. Millisecond counts outside the
 * long long range (inf, 1e300) give LLONG_MIN, the value x86-64's conversion gives in
 * redis-server, which reads as negative there too. */
int cachegate_timeout_ms(const char *s, size_t len, long long *ms) {
    long double v, t;
    if (!parse(s, len, &v)) return 0;
    t = ceill(v * 1000.0);
    if (t >= -9223372036854775808.0L && t < 9223372036854775808.0L)
        *ms = (long long)t;
    else
        *ms = LLONG_MIN;
    return 1;
}

/* SORT's numeric weight: strtod of the value read as a C string (it ends at a NUL byte),
 * which must be consumed whole, not overflow or underflow (ERANGE) and not be NaN, as
 * redis-server's sortCommandGeneric requires. Returns 1 and sets *out, or 0. */
int cachegate_sort_score(const char *s, size_t len, double *out) {
    char stack[128];
    char *buf = len < sizeof(stack) ? stack : malloc(len + 1);
    char *end;
    int ok;
    if (buf == NULL) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    ok = end[0] == '\0' && errno != ERANGE && !isnan(*out);
    if (buf != stack) free(buf);
    return ok;
}

/* INCRBYFLOAT's arithmetic in C long double.
 *
 * Redis parses both operands with strtold, adds them as long double (80-bit
 * x87 extended precision on x86-64) and prints the sum with "%.17Lf",
 * trimming trailing zeroes. Rust has no extended-precision float, and f64
 * gives visibly different results (1 - 1.1 prints -0.10000000000000009
 * instead of -0.1), so the whole operation lives here. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Parse exactly the whole buffer as a long double; 0 on failure. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long double v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Returns 0 and writes the sum's text to out (*out_len bytes), 1 when an
 * operand is not a valid float, 2 when the sum is NaN or infinite. */
int corvid_ld_add(const char *a, size_t alen, const char *b, size_t blen, char *out, size_t cap,
                  size_t *out_len) {
    long double x, y;
    if (!parse_ld(a, alen, &x) || !parse_ld(b, blen, &y)) return 1;
    long double sum = x + y;
    if (isnan(sum) || isinf(sum)) return 2;
    int l = snprintf(out, cap, "%.17Lf", sum);
    if (l < 0 || (size_t)l + 1 > cap) return 1;
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    *out_len = (size_t)l;
    return 0;
}

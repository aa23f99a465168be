/*
 * lrb_vectors_test.c - drives the C codec with the shared vectors.
 *
 * Input (argv[1]), one vector per line, generated from firmware_bridge/vectors.json by the Python test:
 *   V <name> <expect> <hex> [<type> <seq> <flags> <nfields> <field>...]
 * Output, one line each, compared by the Python test with its own decoder:
 *   schema 0x<hash of the C schema table>      crc_check 0x<crc32("123456789")>
 *   <name> whole <status> [<type> <seq> <flags> <f1,f2,...>]
 *   <name> bytes <status> [<type> <seq> <flags> <f1,f2,...>]
 *   <name> encode ok|mismatch                   (valid vectors: pack fields, encode, compare bytes)
 *   stream <status> <status> ...                (all vectors back to back, fed byte by byte)
 * Receiver-rule vectors (spec 9.1), input   R <name> <host|mcu> <expected verdict> <hex>
 *   output                                   <name> rule <verdict> [quality <cleared quality_flags>]
 * Exit status 0 when every outcome matches <expect>, 1 otherwise.
 */
#include "lrb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_CHARS 8192
#define MAX_VECTORS 128

static uint8_t g_stream[MAX_VECTORS * LRB_MAX_WIRE * 2];
static size_t g_stream_len;
static int g_failures;

static int hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex), i;
    if (n % 2 != 0 || n / 2 > cap) {
        return -1;
    }
    for (i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            return -1;
        }
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

static void print_outcome(const char *name, const char *mode, lrb_status st, const lrb_frame *f)
{
    uint64_t fields[16];
    int n, i;
    printf("%s %s %s", name, mode, lrb_status_name(st));
    if (st == LRB_OK) {
        n = lrb_unpack_fields(f->type, f->payload, f->length, fields, 16);
        printf(" %u %u %u ", (unsigned)f->type, (unsigned)f->seq, (unsigned)f->flags);
        for (i = 0; i < n; i++) {
            printf("%s%llu", i ? "," : "", (unsigned long long)fields[i]);
        }
    }
    printf("\n");
}

static void check(const char *name, const char *what, const char *got, const char *expect)
{
    if (strcmp(got, expect) != 0) {
        printf("FAIL %s %s: got %s, expected %s\n", name, what, got, expect);
        g_failures++;
    }
}

static lrb_status decode_bytewise(const uint8_t *data, size_t len, lrb_decoder *dec, lrb_frame *f)
{
    lrb_status st = LRB_NEED_MORE, last = LRB_NEED_MORE;
    size_t i;
    lrb_decoder_init(dec);
    for (i = 0; i < len; i++) {
        st = lrb_decoder_feed(dec, data[i], f);
        if (st != LRB_NEED_MORE) {
            last = st;
        }
    }
    return last;
}

static void check_encode(const char *name, char *rest, const uint8_t *wire, size_t wire_len)
{
    unsigned type, seq, flags, nfields, i;
    uint64_t values[16];
    uint8_t payload[LRB_MAX_PAYLOAD], out[LRB_MAX_WIRE];
    int size, used = 0;
    size_t n;
    if (sscanf(rest, "%u %u %u %u%n", &type, &seq, &flags, &nfields, &used) != 4 || nfields > 16) {
        printf("FAIL %s: bad field list\n", name);
        g_failures++;
        return;
    }
    rest += used;
    for (i = 0; i < nfields; i++) {
        unsigned long long v;
        if (sscanf(rest, "%llu%n", &v, &used) != 1) {
            printf("FAIL %s: bad field %u\n", name, i);
            g_failures++;
            return;
        }
        values[i] = (uint64_t)v;
        rest += used;
    }
    size = lrb_pack_fields((uint8_t)type, values, nfields, payload, sizeof payload);
    n = size < 0 ? 0 : lrb_encode((uint8_t)type, (uint16_t)seq, (uint8_t)flags, payload, (size_t)size, out,
                                  sizeof out);
    printf("%s encode %s\n", name, (n == wire_len && memcmp(out, wire, n) == 0) ? "ok" : "mismatch");
    check(name, "encode", (n == wire_len && memcmp(out, wire, n) == 0) ? "ok" : "mismatch", "ok");
}

static void run_vector(char *line)
{
    static uint8_t wire[LINE_MAX_CHARS / 2], work[LRB_MAX_ENCODED];
    static lrb_decoder dec;
    char name[64], expect[32], hex[LINE_MAX_CHARS];
    int used = 0;
    size_t len;
    lrb_frame f;
    lrb_status st;
    if (sscanf(line, "V %63s %31s %8191s%n", name, expect, hex, &used) != 3 ||
        hex_decode(hex, wire, sizeof wire, &len) != 0 || len == 0 || wire[len - 1] != 0) {
        printf("FAIL bad input line: %.40s\n", line);
        g_failures++;
        return;
    }
    st = lrb_decode_segment(wire, len - 1u, work, &f);
    print_outcome(name, "whole", st, &f);
    check(name, "whole", lrb_status_name(st), expect);
    st = decode_bytewise(wire, len, &dec, &f);
    print_outcome(name, "bytes", st, &f);
    check(name, "bytes", lrb_status_name(st), expect);
    if (st == LRB_OK) {
        check_encode(name, line + used, wire, len);
    }
    if (g_stream_len + len <= sizeof g_stream) {
        memcpy(g_stream + g_stream_len, wire, len);
        g_stream_len += len;
    }
}

static void run_rule(const char *line)
{
    static uint8_t wire[LINE_MAX_CHARS / 2], work[LRB_MAX_ENCODED];
    char name[64], role[8], expect[32], hex[LINE_MAX_CHARS];
    size_t len;
    lrb_frame f;
    lrb_verdict v;
    uint64_t fields[8];
    if (sscanf(line, "R %63s %7s %31s %8191s", name, role, expect, hex) != 4 ||
        hex_decode(hex, wire, sizeof wire, &len) != 0 || len == 0 ||
        lrb_decode_segment(wire, len - 1u, work, &f) != LRB_OK) {
        printf("FAIL bad rule line: %.40s\n", line);
        g_failures++;
        return;
    }
    v = lrb_receive_verdict(strcmp(role, "mcu") == 0 ? LRB_ROLE_MCU : LRB_ROLE_HOST, &f);
    printf("%s rule %s", name, lrb_verdict_name(v));
    if (v == LRB_V_DELIVER && (f.type == LRB_RESULT || f.type == LRB_EXAM_SUMMARY)) {
        int n = lrb_unpack_fields(f.type, f.payload, f.length, fields, 8);
        printf(" quality %u", (unsigned)(fields[n - 1] & ~(uint64_t)LRB_RESERVED_QUALITY_BITS));
    }
    printf("\n");
    check(name, "rule", lrb_verdict_name(v), expect);
}

static void print_schema_hash(void)
{
    static char text[4096];
    size_t count, i, pos = 0;
    const lrb_message_schema *s = lrb_schema(&count);
    uint8_t j;
    for (i = 0; i < count; i++) {
        pos += (size_t)sprintf(text + pos, "0x%02x %s ", (unsigned)s[i].type, s[i].name);
        for (j = 0; j < s[i].nfields; j++) {
            pos += (size_t)sprintf(text + pos, "%s%s:u%u", j ? "," : "", s[i].fields[j].name,
                                   8u * s[i].fields[j].bytes);
        }
        text[pos++] = '\n';
    }
    {
        const lrb_class_entry *c = lrb_classes(&count);
        pos += (size_t)sprintf(text + pos, "classes");
        for (i = 0; i < count; i++) {
            pos += (size_t)sprintf(text + pos, "%s%u:%s", i ? "," : " ", (unsigned)c[i].code, c[i].name);
        }
        text[pos++] = '\n';
        if (lrb_class_name(LRB_CLASS_NOT_LIVER) == NULL || lrb_class_name(7) != NULL) {
            printf("FAIL class table lookup\n");
            g_failures++;
        }
    }
    printf("schema 0x%08lx\n", (unsigned long)lrb_crc32((const uint8_t *)text, pos));
    if (lrb_crc32((const uint8_t *)text, pos) != LRB_SCHEMA_HASH) {
        printf("FAIL schema hash differs from LRB_SCHEMA_HASH\n");
        g_failures++;
    }
}

static void run_stream(void)
{
    static lrb_decoder dec;
    lrb_frame f;
    size_t i;
    lrb_decoder_init(&dec);
    printf("stream");
    for (i = 0; i < g_stream_len; i++) {
        lrb_status st = lrb_decoder_feed(&dec, g_stream[i], &f);
        if (st != LRB_NEED_MORE) {
            printf(" %s", lrb_status_name(st));
        }
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    static char line[LINE_MAX_CHARS + 64];
    FILE *in;
    if (argc != 2 || (in = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: %s VECTOR_LINES_FILE\n", argv[0]);
        return 2;
    }
    print_schema_hash();
    printf("crc_check 0x%08lx\n", (unsigned long)lrb_crc32((const uint8_t *)"123456789", 9));
    while (fgets(line, sizeof line, in) != NULL) {
        if (line[0] == 'V') {
            run_vector(line);
        } else if (line[0] == 'R') {
            run_rule(line);
        }
    }
    fclose(in);
    run_stream();
    return g_failures == 0 ? 0 : 1;
}

#include "rect.h"

gboolean sgad_rect_parse(const gchar *text, SgadRect *out)
{
    if (!text || !*text) {
        *out = (SgadRect){0, 0, 0, 0};
        return TRUE;
    }
    gint v[4];
    const gchar *p = text;
    for (gint i = 0; i < 4; i++) {
        gchar *end;
        gint64 n = g_ascii_strtoll(p, &end, 10);
        if (end == p || n < 0 || n > G_MAXINT)
            return FALSE;
        v[i] = (gint)n;
        while (*end == ' ')
            end++;
        if (i < 3) {
            if (*end != ',')
                return FALSE;
            end++;
        } else if (*end) {
            return FALSE;
        }
        p = end;
    }
    if (v[2] == 0 || v[3] == 0)
        return FALSE;
    /* a region reaching past G_MAXINT reaches past any frame: clip it there, so
     * that x + width and y + height never overflow in the elements' arithmetic */
    v[2] = MIN(v[2], G_MAXINT - v[0]);
    v[3] = MIN(v[3], G_MAXINT - v[1]);
    if (v[2] == 0 || v[3] == 0)
        return FALSE;
    *out = (SgadRect){v[0], v[1], v[2], v[3]};
    return TRUE;
}

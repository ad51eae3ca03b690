/* glasstop's interactive front end (ncursesw): panels stacked in one
 * column, the focused one grows; overlays for help and a block's whole
 * disassembly; keys steer the VM over the control socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "glasstop.h"
#include "gt_ctl.h"
#include "gt_panels.h"

#define MAX_LINES 192
#define LINE_LEN 512
#define MSG_NS 5000000000ull

struct ui_line {
    enum gt_attr a;
    int item;
    char text[LINE_LEN];
};

struct lines {
    struct ui_line l[MAX_LINES];
    unsigned n;
};

enum ui_mode { MODE_MAIN, MODE_HELP, MODE_DISAS, MODE_CONFIRM };

struct ui {
    const struct gt_opts *o;
    const struct gb_reader *r;
    const char *name;
    uint64_t ino;
    struct gt_model m;
    struct gt_symcache syms;
    struct gt_ctl ctl;
    struct gt_view v;
    enum gt_panel focus;
    int scroll[GT_P_COUNT];     /* first content line shown; events: from the bottom */
    int sel;                    /* selected hot block, by rank in the shown order */
    enum ui_mode mode;
    int confirm;                /* 'r' or 'k' */
    struct gb_stats_hot_block disas_blk;   /* a copy: the lists re-rank every sample */
    int disas_valid, disas_scroll;
    char msg[256];
    uint64_t msg_until;
    int color;
    struct lines buf;           /* scratch for one panel */
};

/* colour pairs; 0 stays the terminal default */
enum { PAIR_GOOD = 1, PAIR_WARN, PAIR_BAD, PAIR_HEAD, PAIR_DIM, PAIR_TITLE, PAIR_FOCUS };

static attr_t attr_of(const struct ui *u, enum gt_attr a)
{
    if (!u->color) {
        static const attr_t mono[GT_A_COUNT] = {
            [GT_A_HEAD] = A_UNDERLINE, [GT_A_GOOD] = A_BOLD, [GT_A_WARN] = A_BOLD,
            [GT_A_BAD] = A_BOLD | A_UNDERLINE, [GT_A_DIM] = A_DIM,
        };
        return mono[a];
    }
    switch (a) {
    case GT_A_HEAD: return COLOR_PAIR(PAIR_HEAD) | A_BOLD;
    case GT_A_GOOD: return COLOR_PAIR(PAIR_GOOD) | A_BOLD;
    case GT_A_WARN: return COLOR_PAIR(PAIR_WARN);
    case GT_A_BAD: return COLOR_PAIR(PAIR_BAD) | A_BOLD;
    case GT_A_DIM: return COLOR_PAIR(PAIR_DIM);
    default: return A_NORMAL;
    }
}

static void collect(void *ctx, enum gt_attr a, int item, const char *text)
{
    struct lines *b = ctx;

    if (b->n >= MAX_LINES)
        return;
    b->l[b->n].a = a;
    b->l[b->n].item = item;
    snprintf(b->l[b->n].text, LINE_LEN, "%s", text);
    b->n++;
}

static void panel_collect(struct ui *u, enum gt_panel p)
{
    u->buf.n = 0;
    gt_panel_lines(p, &u->m, &u->v, collect, &u->buf);
}

/* Text at (y, x), clipped to the screen, rest of the row cleared. */
static void put_row(int y, int x, attr_t a, const char *text)
{
    int w = COLS - x;

    move(y, 0);
    clrtoeol();
    move(y, x);
    if (w <= 0)
        return;
    attron(a);
    addnstr(text, (int)gt_clip(text, (unsigned)w));
    attroff(a);
}

/* A full-width bar (titles, status line). */
static void put_bar(int y, attr_t a, const char *text)
{
    move(y, 0);
    attron(a);
    addnstr(text, (int)gt_clip(text, (unsigned)COLS));
    for (int x = (int)gt_cols(text); x < COLS; x++)
        addch(' ');
    attroff(a);
}

static void message(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(struct ui *u, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
    va_end(ap);
    u->msg_until = gt_now_ns() + MSG_NS;
}

/* ---- layout ------------------------------------------------------------- */

/* The lines panel p needs, and the least it is given before the focused
 * panel takes the rest. */
/* Lines for each panel below the header, from what each needs. */
static void layout(struct ui *u, int avail, int rows[GT_P_COUNT])
{
    int need[GT_P_COUNT] = { 0 };

    for (int p = GT_P_VCPU; p < GT_P_COUNT; p++) {
        panel_collect(u, p);
        need[p] = (int)u->buf.n;
    }
    gt_layout(need, u->focus, avail, rows);
}

/* ---- drawing --------------------------------------------------------------- */

static void draw_title(struct ui *u, int y, enum gt_panel p)
{
    char t[160];
    int focused = p == u->focus;
    attr_t a = u->color ? COLOR_PAIR(focused ? PAIR_FOCUS : PAIR_TITLE) | (focused ? A_BOLD : 0)
                        : (focused ? A_REVERSE | A_BOLD : A_REVERSE);

    if (p == GT_P_HOT)
        snprintf(t, sizeof(t), "%s %s [%s, sort: %s]%s%s", focused ? ">>" : "  ",
                 gt_panel_title(p), u->v.hot_window ? "recent" : "since start",
                 gt_sort_name(u->v.sort), u->v.ctl_note ? "  no symbols: " : "",
                 u->v.ctl_note ? u->v.ctl_note : "");
    else
        snprintf(t, sizeof(t), "%s %s", focused ? ">>" : "  ", gt_panel_title(p));
    put_bar(y, a, t);
}

/* Keep the hot selection inside the list and on screen. */
static void hot_scroll(struct ui *u, int rows, int nitems, int first_item_line)
{
    if (u->sel >= nitems)
        u->sel = nitems - 1;
    if (u->sel < 0)
        u->sel = 0;
    int line = first_item_line + u->sel;
    if (line < u->scroll[GT_P_HOT])
        u->scroll[GT_P_HOT] = line <= first_item_line ? 0 : line;
    if (line >= u->scroll[GT_P_HOT] + rows)
        u->scroll[GT_P_HOT] = line - rows + 1;
}

static int draw_panel(struct ui *u, int y, enum gt_panel p, int rows)
{
    int first = 0, nitems = 0, first_item = -1;

    draw_title(u, y++, p);
    panel_collect(u, p);
    int n = (int)u->buf.n;
    for (int i = 0; i < n; i++)
        if (u->buf.l[i].item >= 0 && nitems++ == 0)
            first_item = i;
    if (p == GT_P_HOT && u->focus == GT_P_HOT && nitems)
        hot_scroll(u, rows, nitems, first_item);
    if (p == GT_P_EVENTS) {
        /* newest at the bottom; scroll counts back from there */
        if (u->scroll[p] > n - rows)
            u->scroll[p] = n - rows > 0 ? n - rows : 0;
        first = n - rows - u->scroll[p];
    } else {
        if (u->scroll[p] > n - rows)
            u->scroll[p] = n - rows > 0 ? n - rows : 0;
        first = u->scroll[p];
    }
    if (first < 0)
        first = 0;
    for (int k = 0; k < rows; k++) {
        int i = first + k;
        if (i >= n) {
            move(y + k, 0);
            clrtoeol();
            continue;
        }
        attr_t a = attr_of(u, u->buf.l[i].a);
        if (p == GT_P_HOT && u->focus == GT_P_HOT && i == first_item + u->sel)
            a = A_REVERSE;
        put_row(y + k, 1, a, u->buf.l[i].text);
    }
    return y + rows;
}

static const char *key_hint(const struct ui *u)
{
    /* the whole hint fits 80 columns */
    if (u->m.fate == GT_VM_EXITED)
        return "VM exited  Tab focus  s sort  w window  Enter disasm  h help  q quit";
    return "p pause/resume  r reset  k stop  Tab focus  s sort  Enter disasm  h help  q quit";
}

static void draw_status(struct ui *u)
{
    char t[320];
    attr_t rev = A_REVERSE;

    if (u->mode == MODE_CONFIRM) {
        snprintf(t, sizeof(t), "%s VM '%s'? press y to confirm, any other key cancels",
                 u->confirm == 'r' ? "Reset" : "Stop (quit)", u->name);
        put_bar(LINES - 1, (u->color ? COLOR_PAIR(PAIR_BAD) : 0) | A_REVERSE | A_BOLD, t);
        return;
    }
    if (u->msg[0] && gt_now_ns() < u->msg_until) {
        put_bar(LINES - 1, rev | A_BOLD, u->msg);
        return;
    }
    put_bar(LINES - 1, rev, key_hint(u));
}

static void draw_main(struct ui *u)
{
    int rows[GT_P_COUNT] = { 0 }, y = 0;

    panel_collect(u, GT_P_HEADER);
    for (unsigned i = 0; i < u->buf.n && y < LINES - 1; i++, y++)
        put_row(y, 0, attr_of(u, u->buf.l[i].a) | (i == 0 ? A_BOLD : 0), u->buf.l[i].text);
    int avail = LINES - 1 - y - (GT_P_COUNT - 1);
    if (avail < 0)
        avail = 0;
    layout(u, avail, rows);
    for (int p = GT_P_VCPU; p < GT_P_COUNT && y < LINES - 1; p++)
        y = draw_panel(u, y, p, rows[p]);
    for (; y < LINES - 1; y++) {
        move(y, 0);
        clrtoeol();
    }
    draw_status(u);
}

static void draw_help(struct ui *u)
{
    static const char *const help[] = {
        "glasstop keys",
        "",
        "  p          pause the VM, or resume it when paused (QMP stop / cont)",
        "  r          reset the VM (asks to confirm; QMP system_reset)",
        "  k          stop the VM: the engine exits (asks to confirm; QMP quit)",
        "  Tab, Right focus the next panel;  Shift-Tab, Left: the previous one",
        "  Up, Down   move the hot-block selection, or scroll the focused panel",
        "  PgUp, PgDn scroll a page;  Home, End: to the top or bottom",
        "  s          sort hot blocks by executions, share or pc",
        "  w          hot blocks since start or over the last window",
        "  Enter      whole disassembly of the selected hot block",
        "  h, ?       this help (any key closes it)",
        "  q          quit glasstop (the VM keeps running)",
        "",
        "The numbers come from the VM's stats region (glassbox-stats(5)); symbols,",
        "disassembly and the commands go through its control socket.",
    };
    (void)u;
    erase();
    for (unsigned i = 0; i < sizeof(help) / sizeof(help[0]) && (int)i < LINES; i++)
        put_row((int)i, 1, i == 0 ? A_BOLD : A_NORMAL, help[i]);
}

static const struct gb_stats_hot_block *disas_block(const struct ui *u)
{
    return u->disas_valid ? &u->disas_blk : NULL;
}

static void draw_disas(struct ui *u)
{
    const struct gb_stats_hot_block *b = disas_block(u);
    const struct gt_sym *s = b ? gt_sym_find(&u->syms, b->hart, b->ppc) : NULL;
    char t[320];
    int y = 2;

    erase();
    if (!b) {
        put_row(0, 1, A_BOLD, "no hot block is selected (any key returns)");
        return;
    }
    snprintf(t, sizeof(t), "block at 0x%016llx (phys 0x%llx)%s%s",
             (unsigned long long)b->vpc, (unsigned long long)b->ppc,
             s && s->symbol[0] ? "  " : "", s ? s->symbol : "");
    put_row(0, 1, A_BOLD, t);
    snprintf(t, sizeof(t), "hart %u, %u insns, %llu executions, tier %u;  Up/Down scroll, "
             "any other key returns", b->hart, b->ninsns, (unsigned long long)b->execs, b->tier);
    put_row(1, 1, A_DIM, t);
    if (!s || s->ndis == 0) {
        snprintf(t, sizeof(t), "no disassembly: %s",
                 u->ctl.err[0] ? u->ctl.err : "the control socket gave none");
        put_row(y, 1, attr_of(u, GT_A_WARN), t);
        return;
    }
    int max = (int)s->ndis - (LINES - y);
    if (u->disas_scroll > max)
        u->disas_scroll = max > 0 ? max : 0;
    for (int i = u->disas_scroll; i < (int)s->ndis && y < LINES; i++)
        put_row(y++, 1, A_NORMAL, s->dis[i]);
}

static void draw(struct ui *u)
{
    if (u->mode == MODE_HELP)
        draw_help(u);
    else if (u->mode == MODE_DISAS)
        draw_disas(u);
    else
        draw_main(u);
    refresh();
}

/* ---- actions ----------------------------------------------------------------- */

static void refresh_model(struct ui *u)
{
    uint64_t now = gt_now_ns();

    gt_model_update(&u->m, u->r, now);
    gt_vm_check(&u->m, u->name, u->ino);
    if (u->m.fate == GT_VM_LIVE) {
        gt_ctl_refresh(&u->ctl, u->m.cur, &u->syms, now, 2000000000ull);
        u->v.ctl_note = u->ctl.c ? NULL : u->ctl.err[0] ? u->ctl.err : NULL;
    }
}

static void command(struct ui *u, const char *cmd)
{
    char msg[300];

    if (u->m.fate == GT_VM_EXITED) {
        message(u, "%s: the VM has exited", cmd);
        return;
    }
    gt_ctl_command(&u->ctl, cmd, msg, sizeof(msg));
    message(u, "%s", msg);
}

/* The hot block under the selection: its index in the list, or -1. */
static int selected_item(struct ui *u)
{
    const struct gb_stats_hot_list *l = &u->m.cur->hot[u->v.hot_window ? 1 : 0];
    unsigned idx[GB_STATS_HOT_N];
    unsigned n = gt_hot_order(l, u->v.sort, idx);

    return u->sel >= 0 && (unsigned)u->sel < n ? (int)idx[u->sel] : -1;
}

static void open_disas(struct ui *u)
{
    const struct gb_stats_hot_list *l = &u->m.cur->hot[u->v.hot_window ? 1 : 0];
    int item = selected_item(u);

    u->disas_valid = item >= 0;
    if (item >= 0)
        u->disas_blk = l->b[item];
    u->disas_scroll = 0;
    u->mode = MODE_DISAS;
    const struct gb_stats_hot_block *b = disas_block(u);
    const struct gt_sym *s = b ? gt_sym_find(&u->syms, b->hart, b->ppc) : NULL;
    if (b && (!s || s->ndis < b->ninsns) && u->m.fate == GT_VM_LIVE)
        gt_ctl_fetch_hot(&u->ctl, u->v.hot_window ? "recent" : "total", GB_STATS_HOT_N,
                         b->ninsns > 4 ? b->ninsns : 4, &u->syms);
}

static void scroll_focus(struct ui *u, int delta)
{
    if (u->focus == GT_P_HOT) {
        u->sel += delta;
        if (u->sel < 0)
            u->sel = 0;
        return;
    }
    /* events scroll back from the newest */
    int d = u->focus == GT_P_EVENTS ? -delta : delta;
    u->scroll[u->focus] += d;
    if (u->scroll[u->focus] < 0)
        u->scroll[u->focus] = 0;
}

/* Returns 1 when glasstop should quit. */
static int key_main(struct ui *u, int ch)
{
    int page = LINES / 3 > 1 ? LINES / 3 : 1;

    switch (ch) {
    case 'q': case 'Q':
        return 1;
    case 'h': case '?':
        u->mode = MODE_HELP;
        break;
    case '\t': case KEY_RIGHT:
        u->focus = u->focus + 1 < GT_P_COUNT ? u->focus + 1 : GT_P_VCPU;
        break;
    case KEY_BTAB: case KEY_LEFT:
        u->focus = u->focus - 1 > GT_P_HEADER ? u->focus - 1 : GT_P_COUNT - 1;
        break;
    case KEY_UP: scroll_focus(u, -1); break;
    case KEY_DOWN: scroll_focus(u, 1); break;
    case KEY_PPAGE: scroll_focus(u, -page); break;
    case KEY_NPAGE: scroll_focus(u, page); break;
    case KEY_HOME: scroll_focus(u, -100000); break;
    case KEY_END: scroll_focus(u, 100000); break;
    case 's':
        u->v.sort = (u->v.sort + 1) % GT_SORT_COUNT;
        message(u, "hot blocks sorted by %s", gt_sort_name(u->v.sort));
        break;
    case 'w':
        u->v.hot_window = !u->v.hot_window;
        u->sel = 0;
        break;
    case '\n': case '\r': case KEY_ENTER:
        if (u->focus == GT_P_HOT)
            open_disas(u);
        else
            message(u, "Enter shows a hot block's disassembly: focus the hot blocks (Tab)");
        break;
    case 'p':
        command(u, u->m.cur->status.state == GB_VM_PAUSED ? "cont" : "stop");
        refresh_model(u);
        break;
    case 'r': case 'k':
        if (u->m.fate == GT_VM_EXITED) {
            message(u, "the VM has exited");
            break;
        }
        u->mode = MODE_CONFIRM;
        u->confirm = ch;
        break;
    case KEY_RESIZE:
        clear();
        break;
    default:
        break;
    }
    return 0;
}

static int handle_key(struct ui *u, int ch)
{
    switch (u->mode) {
    case MODE_MAIN:
        return key_main(u, ch);
    case MODE_HELP:
        if (ch != KEY_RESIZE)
            u->mode = MODE_MAIN;
        break;
    case MODE_DISAS:
        if (ch == KEY_UP && u->disas_scroll > 0)
            u->disas_scroll--;
        else if (ch == KEY_DOWN)
            u->disas_scroll++;
        else if (ch != KEY_RESIZE)
            u->mode = MODE_MAIN;
        break;
    case MODE_CONFIRM:
        if (ch == KEY_RESIZE)
            break;
        u->mode = MODE_MAIN;
        if (ch == 'y' || ch == 'Y') {
            command(u, u->confirm == 'r' ? "system_reset" : "quit");
            refresh_model(u);
        } else {
            message(u, "cancelled");
        }
        break;
    }
    return 0;
}

/* ---- setup ------------------------------------------------------------------- */

static void setup_colors(struct ui *u)
{
    u->color = !u->o->no_color && has_colors() && start_color() == OK;
    if (!u->color)
        return;
    use_default_colors();
    init_pair(PAIR_GOOD, COLOR_GREEN, -1);
    init_pair(PAIR_WARN, COLOR_YELLOW, -1);
    init_pair(PAIR_BAD, COLOR_RED, -1);
    init_pair(PAIR_HEAD, COLOR_CYAN, -1);
    init_pair(PAIR_DIM, COLOR_BLUE, -1);
    init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
    init_pair(PAIR_FOCUS, COLOR_BLACK, COLOR_YELLOW);
}

int gt_curses_run(const struct gt_opts *o, struct gb_reader *r, const char *name, uint64_t ino,
                  char *err, size_t errlen)
{
    static struct ui u;         /* large: the line buffer */
    const char *cs = nl_langinfo(CODESET);
    int quit = 0;

    memset(&u, 0, sizeof(u));
    u.o = o;
    u.r = r;
    u.name = name;
    u.ino = ino;
    u.focus = GT_P_HOT;
    u.v.utf8 = cs && !strcmp(cs, "UTF-8");
    u.v.syms = &u.syms;
    u.v.titled = 1;
    if (gt_model_init(&u.m) < 0) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    gt_ctl_open(&u.ctl, name, 1000);
    refresh_model(&u);
    if (!initscr()) {
        snprintf(err, errlen, "cannot initialise the terminal (TERM=%s)",
                 getenv("TERM") ? getenv("TERM") : "");
        gt_model_free(&u.m);
        return 1;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    setup_colors(&u);
    int tick_ms = (int)(o->interval * 1000);
    uint64_t next = gt_now_ns() + (uint64_t)tick_ms * 1000000ull;
    while (!quit) {
        draw(&u);
        uint64_t now = gt_now_ns();
        int wait = now >= next ? 0 : (int)((next - now) / 1000000ull);
        timeout(wait > 250 ? 250 : wait);   /* the message line expires on time too */
        int ch = getch();
        if (ch != ERR)
            quit = handle_key(&u, ch);
        if (gt_now_ns() >= next) {
            refresh_model(&u);
            next = gt_now_ns() + (uint64_t)tick_ms * 1000000ull;
        }
    }
    endwin();
    gt_ctl_close(&u.ctl);
    gt_sym_free(&u.syms);
    gt_model_free(&u.m);
    return 0;
}

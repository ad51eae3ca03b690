#!/usr/bin/env python3
"""Generate fp_vectors.h: F/D test vectors with results computed from the
IEEE 754-2008 rules as the RISC-V F/D chapters apply them (tininess after
rounding, canonical NaN 0x7fc00000 / 0x7ff8000000000000, fmin/fmax of the
2.2 spec, fcvt saturation), using exact rational arithmetic.  Not run by the
build: the header is checked in.  Re-run: python3 fpgen.py > fp_vectors.h
"""
from fractions import Fraction as Fr
import math

NV, DZ, OF, UF, NX = 16, 8, 4, 2, 1
RNE, RTZ, RDN, RUP, RMM = range(5)
RM_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm']
FMT = {'s': (8, 23), 'd': (11, 52)}


class F:
    def __init__(self, fmt):
        self.fmt = fmt
        self.E, self.M = FMT[fmt]
        self.bias = (1 << (self.E - 1)) - 1
        self.emin, self.emax = 1 - self.bias, self.bias
        self.width = 1 + self.E + self.M
        self.qnan = ((1 << self.E) - 1) << self.M | 1 << (self.M - 1)
        self.inf = ((1 << self.E) - 1) << self.M
        self.maxf = self.inf - 1

    def dec(self, b):
        """(kind, sign, value): kind in zero/num/inf/qnan/snan"""
        s = b >> (self.width - 1) & 1
        e = b >> self.M & ((1 << self.E) - 1)
        m = b & ((1 << self.M) - 1)
        if e == (1 << self.E) - 1:
            if m == 0:
                return 'inf', s, None
            return ('qnan' if m >> (self.M - 1) else 'snan'), s, None
        if e == 0:
            v = Fr(m) * Fr(2) ** (self.emin - self.M)
        else:
            v = Fr((1 << self.M) | m) * Fr(2) ** (e - self.bias - self.M)
        return ('zero' if v == 0 else 'num'), s, v

    def signbit(self, s):
        return s << (self.width - 1)

    def rnd(self, s, mag, rm, sticky=False):
        """Round sign/magnitude to this format -> (bits, flags).  sticky means
        the true value is a hair above mag (inexact sqrt)."""
        if mag == 0 and not sticky:
            return self.signbit(s), 0
        e = mag.numerator.bit_length() - mag.denominator.bit_length()
        if Fr(2) ** e > mag:
            e -= 1
        if Fr(2) ** (e + 1) <= mag:
            e += 1

        def round_at(qe):
            sc = mag / Fr(2) ** qe
            n = sc.numerator // sc.denominator
            rem = sc - n
            inexact = rem != 0 or sticky
            half = Fr(1, 2)
            if rm == RNE:
                up = rem > half or (rem == half and (sticky or n & 1))
            elif rm == RTZ:
                up = False
            elif rm == RDN:
                up = inexact and s == 1
            elif rm == RUP:
                up = inexact and s == 0
            else:
                up = rem > half or (rem == half)
            return n + up, inexact

        qe = max(e, self.emin) - self.M
        n, inexact = round_at(qe)
        # tininess after rounding: round with unbounded exponent range
        nu, _ = round_at(e - self.M)
        tiny = nu * Fr(2) ** (e - self.M) < Fr(2) ** self.emin
        flags = (NX if inexact else 0) | (UF if tiny and inexact else 0)
        if n == 1 << (self.M + 1):
            n >>= 1
            qe += 1
        if n >= 1 << self.M:
            ef = qe + self.M + self.bias
            if ef >= (1 << self.E) - 1:   # overflow
                toinf = rm in (RNE, RMM) or (rm == RDN and s) or (rm == RUP and not s)
                return self.signbit(s) | (self.inf if toinf else self.maxf), OF | NX
            return self.signbit(s) | ef << self.M | (n - (1 << self.M)), flags
        return self.signbit(s) | n, flags

    # ---- operations: each returns (bits, flags) ----
    def nan_in(self, *ops):
        kinds = [self.dec(o)[0] for o in ops]
        fl = NV if 'snan' in kinds else 0
        return any(k in ('qnan', 'snan') for k in kinds), fl

    def signed(self, b):
        k, s, v = self.dec(b)
        if k == 'inf':
            v = math.inf
        return -v if s else v

    def add(self, a, b, rm, sub=False):
        if sub:
            b ^= self.signbit(1)
        isn, fl = self.nan_in(a, b)
        if isn:
            return self.qnan, fl
        ka, sa, _ = self.dec(a)
        kb, sb, _ = self.dec(b)
        if ka == 'inf' and kb == 'inf':
            return (a, 0) if sa == sb else (self.qnan, NV)
        if ka == 'inf':
            return a, 0
        if kb == 'inf':
            return b, 0
        r = self.signed(a) + self.signed(b)
        if r == 0:
            s = sa if (ka == 'zero' and kb == 'zero' and sa == sb) else (1 if rm == RDN else 0)
            return self.signbit(s), 0
        return self.rnd(1 if r < 0 else 0, abs(r), rm)

    def mul(self, a, b, rm):
        isn, fl = self.nan_in(a, b)
        if isn:
            return self.qnan, fl
        ka, sa, _ = self.dec(a)
        kb, sb, _ = self.dec(b)
        s = sa ^ sb
        if {ka, kb} == {'inf', 'zero'}:
            return self.qnan, NV
        if 'inf' in (ka, kb):
            return self.signbit(s) | self.inf, 0
        return self.rnd(s, abs(self.signed(a) * self.signed(b)), rm)

    def div(self, a, b, rm):
        isn, fl = self.nan_in(a, b)
        if isn:
            return self.qnan, fl
        ka, sa, va = self.dec(a)
        kb, sb, vb = self.dec(b)
        s = sa ^ sb
        if (ka, kb) in (('zero', 'zero'), ('inf', 'inf')):
            return self.qnan, NV
        if ka == 'inf':
            return self.signbit(s) | self.inf, 0
        if kb == 'inf':
            return self.signbit(s), 0
        if kb == 'zero':
            return self.signbit(s) | self.inf, DZ
        return self.rnd(s, va / vb, rm)

    def sqrt(self, a, rm):
        isn, fl = self.nan_in(a)
        if isn:
            return self.qnan, fl
        k, s, v = self.dec(a)
        if k == 'zero':
            return a, 0
        if s:
            return self.qnan, NV
        if k == 'inf':
            return a, 0
        K = 1200
        x = v * Fr(4) ** K
        xi = x.numerator // x.denominator
        r = math.isqrt(xi)
        exact = (x.denominator == 1 and r * r == xi)
        return self.rnd(0, Fr(r, 2 ** K), rm, sticky=not exact)

    def fma(self, a, b, c, rm, negprod=False, negc=False):
        ka, sa, _ = self.dec(a)
        kb, sb, _ = self.dec(b)
        isn, fl = self.nan_in(a, b, c)
        if {ka, kb} == {'inf', 'zero'}:
            return self.qnan, NV        # even when c is a quiet NaN
        if isn:
            return self.qnan, fl
        if negc:
            c ^= self.signbit(1)
        kc, sc, _ = self.dec(c)
        sp = sa ^ sb ^ (1 if negprod else 0)
        if 'inf' in (ka, kb):
            if kc == 'inf' and sc != sp:
                return self.qnan, NV
            return self.signbit(sp) | self.inf, 0
        if kc == 'inf':
            return c, 0
        p = self.signed(a) * self.signed(b) * (-1 if negprod else 1)
        r = p + self.signed(c)
        if r == 0:
            pz = p == 0
            s = sp if (pz and kc == 'zero' and sp == sc) else (1 if rm == RDN else 0)
            return self.signbit(s), 0
        return self.rnd(1 if r < 0 else 0, abs(r), rm)

    def minmax(self, a, b, is_max):
        ka, sa, _ = self.dec(a)
        kb, sb, _ = self.dec(b)
        _, fl = self.nan_in(a, b)
        an, bn = ka in ('qnan', 'snan'), kb in ('qnan', 'snan')
        if an and bn:
            return self.qnan, fl
        if an:
            return b, fl
        if bn:
            return a, fl
        va, vb = self.signed(a), self.signed(b)
        if va == vb:   # +-0: -0 is the smaller
            pick_a = (sa < sb) if is_max else (sa > sb)
            return (a if pick_a else b), 0
        return (a if (va > vb) == is_max else b), 0

    def cmp(self, a, b, op):
        ka, _, _ = self.dec(a)
        kb, _, _ = self.dec(b)
        nans = [k for k in (ka, kb) if k in ('qnan', 'snan')]
        if nans:
            fl = NV if (op != 'eq' or 'snan' in nans) else 0
            return 0, fl
        va, vb = self.signed(a), self.signed(b)
        return int({'eq': va == vb, 'lt': va < vb, 'le': va <= vb}[op]), 0

    def classify(self, a):
        k, s, v = self.dec(a)
        if k == 'inf':
            return 1 << (0 if s else 7), 0
        if k == 'zero':
            return 1 << (3 if s else 4), 0
        if k == 'snan':
            return 1 << 8, 0
        if k == 'qnan':
            return 1 << 9, 0
        sub = v < Fr(2) ** self.emin
        return 1 << ((2 if sub else 1) if s else (5 if sub else 6)), 0

    def to_int(self, a, rm, bits, signed):
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        k, s, v = self.dec(a)
        if k in ('qnan', 'snan'):
            r, fl = hi, NV
        elif k == 'inf':
            r, fl = (lo if s else hi), NV
        else:
            v = -v if s else v
            n = math.floor(v)
            rem = v - n
            if rem:
                if rm == RNE:
                    n += rem > Fr(1, 2) or (rem == Fr(1, 2) and n & 1)
                elif rm == RTZ:
                    n += 1 if v < 0 else 0
                elif rm == RUP:
                    n += 1
                elif rm == RMM:
                    n += rem > Fr(1, 2) or (rem == Fr(1, 2) and v > 0)
            if n < lo:
                r, fl = lo, NV
            elif n > hi:
                r, fl = hi, NV
            else:
                r, fl = n, (NX if rem else 0)
        r &= (1 << bits) - 1
        if bits == 32 and r >> 31:       # W results are sign-extended
            r |= 0xffffffff00000000
        return r, fl

    def from_int(self, x, rm, bits, signed):
        x &= (1 << bits) - 1
        if signed and x >> (bits - 1):
            x -= 1 << bits
        if x == 0:
            return 0, 0
        return self.rnd(1 if x < 0 else 0, Fr(abs(x)), rm)

    def convert_from(self, src, a, rm):
        k, s, v = src.dec(a)
        if k in ('qnan', 'snan'):
            return self.qnan, (NV if k == 'snan' else 0)
        if k == 'inf':
            return self.signbit(s) | self.inf, 0
        if k == 'zero':
            return self.signbit(s), 0
        return self.rnd(s, v, rm)


S, D = F('s'), F('d')


def box(f, b):
    return b | 0xffffffff00000000 if f is S else b


def unbox_res(f, b):
    return box(f, b)


out = []


def emit(op, rm, a, b, c, res, fl, desc):
    out.append('    { OP_%s, %d, 0x%xUL, 0x%xUL, 0x%xUL, 0x%xUL, 0x%x, "%s" },' %
               (op, rm, a, b, c, res, fl, desc))


def opname(m, f):
    return m.replace('.', '_')


def vec_ff(f, m, fn, pairs, rms):
    for a, b in pairs:
        for rm in rms:
            r, fl = fn(a, b, rm)
            emit(opname(m, f), rm, box(f, a), box(f, b), 0, box(f, r), fl,
                 '%s %s 0x%x 0x%x' % (m, RM_NAMES[rm], a, b))


# ---- operand sets (bit patterns) ----
def vals(f):
    if f is S:
        return dict(one=0x3f800000, mone=0xbf800000, two=0x40000000, three=0x40400000,
                    half=0x3f000000, third=0x3eaaaaab, pz=0, nz=0x80000000,
                    minsub=0x00000001, maxsub=0x007fffff, minnorm=0x00800000,
                    maxf=0x7f7fffff, pinf=0x7f800000, ninf=0xff800000,
                    qnan=0x7fc00000, snan=0x7f800001, nqnan=0xffc12345,
                    ulp1=0x33800000, ulp34=0x33c00000, ten=0x41200000, nten=0xc1200000,
                    big=0x4f000000, nbig=0xcf000000, p1_5=0x3fc00000, n2_5=0xc0200000,
                    n0_3=0xbe99999a, two24p1=0x4b800001, e20=0x49742400)
    return dict(one=0x3ff0000000000000, mone=0xbff0000000000000, two=0x4000000000000000,
                three=0x4008000000000000, half=0x3fe0000000000000, third=0x3fd5555555555555,
                pz=0, nz=0x8000000000000000, minsub=1, maxsub=0x000fffffffffffff,
                minnorm=0x0010000000000000, maxf=0x7fefffffffffffff, pinf=0x7ff0000000000000,
                ninf=0xfff0000000000000, qnan=0x7ff8000000000000, snan=0x7ff0000000000001,
                nqnan=0xfff8000000012345, ulp1=0x3ca0000000000000, ulp34=0x3ca8000000000000,
                ten=0x4024000000000000, nten=0xc024000000000000, big=0x43e0000000000000,
                nbig=0xc3e0000000000000, p1_5=0x3ff8000000000000, n2_5=0xc004000000000000,
                n0_3=0xbfd3333333333333, two24p1=0x4170000010000000, e20=0x4415af1d78b58c40)


ALLRM = [RNE, RTZ, RDN, RUP, RMM]


def gen(f):
    v = vals(f)
    sfx = f.fmt
    neg = lambda b: b ^ f.signbit(1)
    # rounding-sensitive pairs run in all five modes; special ones in RNE
    add_rnd = [(v['one'], v['ulp1']), (neg(v['one']), neg(v['ulp1'])), (v['one'], v['ulp34']),
               (v['three'], v['ulp34']), (v['maxf'], v['maxf']), (neg(v['maxf']), neg(v['maxf'])),
               (v['one'], neg(v['one'])), (v['minnorm'], neg(v['minsub']))]
    add_spec = [(v['pinf'], v['ninf']), (v['pinf'], v['one']), (v['qnan'], v['one']),
                (v['snan'], v['one']), (v['nqnan'], v['pinf']), (v['nz'], v['nz']),
                (v['pz'], v['nz']), (v['minsub'], v['minsub']), (v['maxsub'], v['minsub'])]
    vec_ff(f, 'fadd.' + sfx, f.add, add_rnd, ALLRM)
    vec_ff(f, 'fadd.' + sfx, f.add, add_spec, [RNE])
    vec_ff(f, 'fsub.' + sfx, lambda a, b, rm: f.add(a, b, rm, sub=True),
           [(v['one'], neg(v['ulp1'])), (v['one'], v['one']), (v['pinf'], v['pinf']),
            (v['nz'], v['pz']), (v['ten'], v['third'])], ALLRM)
    mul_rnd = [(v['third'], v['three']), (v['maxf'], v['two']), (v['minnorm'], v['half']),
               (v['minsub'], v['half']), (v['third'], neg(v['ten'])), (v['minnorm'], v['third'])]
    vec_ff(f, 'fmul.' + sfx, f.mul, mul_rnd, ALLRM)
    vec_ff(f, 'fmul.' + sfx, f.mul, [(v['pinf'], v['pz']), (v['nz'], v['one']), (v['ninf'], v['mone']),
                                     (v['snan'], v['pz']), (v['two'], v['three'])], [RNE])
    div_rnd = [(v['one'], v['three']), (neg(v['two']), v['three']), (v['minnorm'], v['ten']),
               (v['maxf'], v['half']), (v['ten'], v['three'])]
    vec_ff(f, 'fdiv.' + sfx, f.div, div_rnd, ALLRM)
    vec_ff(f, 'fdiv.' + sfx, f.div, [(v['one'], v['pz']), (v['mone'], v['pz']), (v['pz'], v['pz']),
                                     (v['pinf'], v['pinf']), (v['one'], v['ninf']), (v['pinf'], v['nz']),
                                     (v['qnan'], v['pz']), (v['ten'], v['two'])], [RNE])
    for a in [v['two'], v['three'], v['ten'], v['maxsub'], v['third']]:
        for rm in ALLRM:
            r, fl = f.sqrt(a, rm)
            emit('fsqrt_' + sfx, rm, box(f, a), 0, 0, box(f, r), fl, 'fsqrt.%s %s 0x%x' % (sfx, RM_NAMES[rm], a))
    for a in [v['pz'], v['nz'], v['mone'], v['pinf'], v['ninf'], v['snan'], v['e20'], v['minsub']]:
        r, fl = f.sqrt(a, RNE)
        emit('fsqrt_' + sfx, RNE, box(f, a), 0, 0, box(f, r), fl, 'fsqrt.%s rne 0x%x' % (sfx, a))
    # fused multiply-add: one rounding (a*b+c computed exactly first)
    fma_rnd = [(v['third'], v['three'], neg(v['one'])),       # 1/3*3-1: tiny exact residue
               (v['one'], v['one'], v['ulp1']),
               (v['maxf'], v['two'], neg(v['maxf'])),         # no intermediate overflow
               (v['ten'], v['third'], v['p1_5']),
               (v['one'], v['pz'], v['nz'])]
    fma_spec = [(v['pinf'], v['pz'], v['qnan']),              # invalid even with qNaN addend
                (v['pinf'], v['one'], v['ninf']),
                (v['snan'], v['one'], v['one']),
                (v['one'], v['one'], v['qnan']),
                (v['nz'], v['one'], v['nz'])]
    fmas = [('fmadd', False, False), ('fmsub', False, True), ('fnmsub', True, False), ('fnmadd', True, True)]
    for m, np_, nc in fmas:
        for a, b, c in fma_rnd:
            for rm in ALLRM:
                r, fl = f.fma(a, b, c, rm, np_, nc)
                emit('%s_%s' % (m, sfx), rm, box(f, a), box(f, b), box(f, c), box(f, r), fl,
                     '%s.%s %s 0x%x 0x%x 0x%x' % (m, sfx, RM_NAMES[rm], a, b, c))
        for a, b, c in fma_spec:
            r, fl = f.fma(a, b, c, RNE, np_, nc)
            emit('%s_%s' % (m, sfx), RNE, box(f, a), box(f, b), box(f, c), box(f, r), fl,
                 '%s.%s rne 0x%x 0x%x 0x%x' % (m, sfx, a, b, c))
    # sign injection: pure bit operations, NaN payloads kept
    sg = [(v['one'], v['mone']), (v['mone'], v['one']), (v['nqnan'], v['pz']), (v['snan'], v['ninf'])]
    for m, fn in [('fsgnj', lambda a, b: a & ~f.signbit(1) | b & f.signbit(1)),
                  ('fsgnjn', lambda a, b: a & ~f.signbit(1) | ~b & f.signbit(1)),
                  ('fsgnjx', lambda a, b: a ^ b & f.signbit(1))]:
        for a, b in sg:
            emit('%s_%s' % (m, sfx), 0, box(f, a), box(f, b), 0, box(f, fn(a, b)), 0, '%s.%s 0x%x 0x%x' % (m, sfx, a, b))
    mm = [(v['one'], v['two']), (v['mone'], v['one']), (v['pz'], v['nz']), (v['nz'], v['pz']),
          (v['qnan'], v['one']), (v['one'], v['snan']), (v['snan'], v['qnan']), (v['nqnan'], v['qnan']),
          (v['ninf'], v['pinf'])]
    for m, ismax in [('fmin', False), ('fmax', True)]:
        for a, b in mm:
            r, fl = f.minmax(a, b, ismax)
            emit('%s_%s' % (m, sfx), 0, box(f, a), box(f, b), 0, box(f, r), fl, '%s.%s 0x%x 0x%x' % (m, sfx, a, b))
    cm = [(v['one'], v['one']), (v['one'], v['two']), (v['two'], v['one']), (v['pz'], v['nz']),
          (v['qnan'], v['one']), (v['snan'], v['one']), (v['ninf'], v['maxf'])]
    for m in ['eq', 'lt', 'le']:
        for a, b in cm:
            r, fl = f.cmp(a, b, m)
            emit('f%s_%s' % (m, sfx), 0, box(f, a), box(f, b), 0, r, fl, 'f%s.%s 0x%x 0x%x' % (m, sfx, a, b))
    for a in [v['ninf'], v['mone'], neg(v['maxsub']), v['nz'], v['pz'], v['minsub'], v['one'],
              v['pinf'], v['snan'], v['qnan']]:
        r, fl = f.classify(a)
        emit('fclass_' + sfx, 0, box(f, a), 0, 0, r, fl, 'fclass.%s 0x%x' % (sfx, a))
    # float -> integer: rounding, NX, saturation with NV
    fi = [v['p1_5'], v['n2_5'], v['n0_3'], v['third'], v['big'], v['nbig'], v['e20'],
          v['pinf'], v['ninf'], v['qnan'], v['mone'], v['maxf']]
    for m, bits, sg_ in [('w', 32, True), ('wu', 32, False), ('l', 64, True), ('lu', 64, False)]:
        for a in fi:
            rms = ALLRM if a in (v['p1_5'], v['n2_5'], v['n0_3']) else [RNE]
            for rm in rms:
                r, fl = f.to_int(a, rm, bits, sg_)
                emit('fcvt_%s_%s' % (m, sfx), rm, box(f, a), 0, 0, r, fl, 'fcvt.%s.%s %s 0x%x' % (m, sfx, RM_NAMES[rm], a))
    # integer -> float
    ints = [(0, 'zero'), (1, ''), (0xffffffff, ''), (0x7fffffff, ''), (0x80000001, ''),
            (0xffffffffffffffff, ''), (0x7fffffffffffffff, ''), (0x1000001, ''), (0x20000000000001, ''),
            (0xfffffffffeffffff, '')]
    for m, bits, sg_ in [('w', 32, True), ('wu', 32, False), ('l', 64, True), ('lu', 64, False)]:
        for x, _ in ints:
            if bits == 32 and x > 0xffffffff:
                continue
            rms = ALLRM if x in (0x7fffffff, 0x80000001, 0x20000000000001, 0xfffffffffeffffff, 0x1000001) else [RNE]
            for rm in rms:
                r, fl = f.from_int(x, rm, bits, sg_)
                emit('fcvt_%s_%s' % (sfx, m), rm, x, 0, 0, box(f, r), fl, 'fcvt.%s.%s %s 0x%x' % (sfx, m, RM_NAMES[rm], x))


def gen_conv():
    # double -> single rounds; single -> double is exact
    for a in [0x3fd5555555555555, 0xbfd5555555555555, 0x47efffffffffffff, 0x47f0000000000000,
              0x3e70000000000000, 0x36a0000000000000, 0x3690000000000000]:
        for rm in ALLRM:
            r, fl = S.convert_from(D, a, rm)
            emit('fcvt_s_d', rm, a, 0, 0, box(S, r), fl, 'fcvt.s.d %s 0x%x' % (RM_NAMES[rm], a))
    for a in [0x7ff0000000000001, 0xfff8000000000123, 0x7ff0000000000000, 0x8000000000000000]:
        r, fl = S.convert_from(D, a, RNE)
        emit('fcvt_s_d', RNE, a, 0, 0, box(S, r), fl, 'fcvt.s.d rne 0x%x' % a)
    for a in [0x3eaaaaab, 0x00000001, 0x7f7fffff, 0x7f800001, 0xffc00123, 0xff800000, 0x80000000]:
        r, fl = D.convert_from(S, a, RNE)
        emit('fcvt_d_s', RNE, box(S, a), 0, 0, r, fl, 'fcvt.d.s 0x%x' % a)


print('/* Generated by fpgen.py from IEEE 754 rules as the RISC-V F/D chapters use them. */')
print('/* { op, rm, a, b, c, expected, fflags, name } */')
for name, f in [('vec_s', S), ('vec_d', D)]:
    out.clear()
    gen(f)
    if f is D:
        gen_conv()
    print('static const struct fvec %s[] = {' % name)
    print('\n'.join(out))
    print('};')

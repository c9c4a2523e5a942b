// axpy for neon: Kunpeng 920 (HiSilicon TaiShan V110), ARMv8.2-A, 128-bit NEON
// llc-style target: aarch64-unknown-linux-gnu -mcpu=tsv110; numba 0.68.1, llvmlite 0.50.0 (LLVM 22.1.0); made by regenerate_listings.py
_ZN12simd_kernels4axpyB2v3B60c8tJTIeFIjxB2IKSgI4CrvQClYb5wBbdC9XqICn1Wk1gKBZBVGsCAA_3d_3dEf5ArrayIfLi1E1C7mutable7alignedE5ArrayIfLi1E1C7mutable7alignedE:
	cmp	x7, #1
	b.lt	.LBB0_13
	ldr	x8, [sp, #40]
	cmp	x7, #8
	b.lo	.LBB0_4
	lsl	x9, x7, #2
	add	x10, x6, x9
	cmp	x8, x10
	b.hs	.LBB0_10
	add	x9, x8, x9
	cmp	x6, x9
	b.hs	.LBB0_10
.LBB0_4:
	mov	x9, xzr
.LBB0_5:
	orr	x10, x9, #0x1
	tbz	w7, #0, .LBB0_7
	ldr	s1, [x8, x9, lsl #2]
	ldr	s2, [x6, x9, lsl #2]
	fmadd	s1, s2, s0, s1
	str	s1, [x8, x9, lsl #2]
	mov	x9, x10
.LBB0_7:
	cmp	x7, x10
	b.eq	.LBB0_13
	sub	x10, x7, x9
	lsl	x9, x9, #2
	add	x11, x9, #4
	add	x9, x6, x11
	add	x8, x8, x11
	.p2align	2
.LBB0_9:
	ldur	s1, [x9, #-4]
	ldp	s2, s3, [x8, #-4]
	subs	x10, x10, #2
	fmadd	s1, s1, s0, s2
	stur	s1, [x8, #-4]
	ldr	s1, [x9], #8
	fmadd	s1, s1, s0, s3
	str	s1, [x8], #8
	b.ne	.LBB0_9
	b	.LBB0_13
.LBB0_10:
	and	x9, x7, #0x7ffffffffffffff8
	add	x10, x6, #16
	add	x11, x8, #16
	and	x12, x7, #0x7ffffffffffffff8
	.p2align	2
.LBB0_11:
	ldp	q1, q2, [x11, #-16]
	ldp	q3, q4, [x10, #-16]
	subs	x12, x12, #8
	add	x10, x10, #32
	fmla	v2.4s, v4.4s, v0.s[0]
	fmla	v1.4s, v3.4s, v0.s[0]
	stp	q1, q2, [x11, #-16]
	add	x11, x11, #32
	b.ne	.LBB0_11
	cmp	x7, x9
	b.ne	.LBB0_5
.LBB0_13:
	str	xzr, [x0]
	mov	w0, wzr
	ret

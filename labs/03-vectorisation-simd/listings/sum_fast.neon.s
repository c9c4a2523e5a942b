// sum_fast for neon: Kunpeng 920 (HiSilicon TaiShan V110), ARMv8.2-A, 128-bit NEON
// llc-style target: aarch64-unknown-linux-gnu -mcpu=tsv110; numba 0.68.1, llvmlite 0.50.0 (LLVM 22.1.0); made by regenerate_listings.py
_ZN12simd_kernels8sum_fastB2v2B60c8tJTIeFIjxB2IKSgI4CrvQClYb5wBbdC9XqICn1Wk1gKBZBVGsCAA_3d_3dE5ArrayIdLi1E1C7mutable7alignedE:
	cmp	x7, #1
	b.lt	.LBB0_3
	cmp	x7, #4
	b.hs	.LBB0_4
	mov	x8, xzr
	movi	d0, #0000000000000000
	b	.LBB0_7
.LBB0_3:
	movi	d0, #0000000000000000
	str	d0, [x0]
	mov	w0, wzr
	ret
.LBB0_4:
	movi	v0.2d, #0000000000000000
	movi	v1.2d, #0000000000000000
	and	x8, x7, #0x7ffffffffffffffc
	add	x9, x6, #16
	and	x10, x7, #0x7ffffffffffffffc
	.p2align	2
.LBB0_5:
	ldp	q2, q3, [x9, #-16]
	subs	x10, x10, #4
	add	x9, x9, #32
	fadd	v1.2d, v3.2d, v1.2d
	fadd	v0.2d, v2.2d, v0.2d
	b.ne	.LBB0_5
	fadd	v0.2d, v1.2d, v0.2d
	cmp	x7, x8
	faddp	d0, v0.2d
	b.eq	.LBB0_9
.LBB0_7:
	sub	x9, x7, x8
	add	x8, x6, x8, lsl #3
	.p2align	2
.LBB0_8:
	ldr	d1, [x8], #8
	subs	x9, x9, #1
	fadd	d0, d1, d0
	b.ne	.LBB0_8
.LBB0_9:
	str	d0, [x0]
	mov	w0, wzr
	ret

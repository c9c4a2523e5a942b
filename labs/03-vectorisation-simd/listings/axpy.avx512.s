# axpy for avx512: AVX-512 Xeon (Skylake-SP) as LLVM tunes it by default (prefers 256-bit vectors)
# llc-style target: x86_64-unknown-linux-gnu -mcpu=skylake-avx512; numba 0.68.1, llvmlite 0.50.0 (LLVM 22.1.0); made by regenerate_listings.py
_ZN12simd_kernels4axpyB2v3B60c8tJTIeFIjxB2IKSgI4CrvQClYb5wBbdC9XqICn1Wk1gKBZBVGsCAA_3d_3dEf5ArrayIfLi1E1C7mutable7alignedE5ArrayIfLi1E1C7mutable7alignedE:
	movq	16(%rsp), %rax
	testq	%rax, %rax
	jle	.LBB0_19
	movq	64(%rsp), %rcx
	movq	8(%rsp), %rdx
	cmpq	$4, %rax
	jb	.LBB0_2
	leaq	(%rcx,%rax,4), %rsi
	leaq	(%rdx,%rax,4), %r8
	cmpq	%r8, %rcx
	setb	%r8b
	cmpq	%rsi, %rdx
	setb	%sil
	testb	%sil, %r8b
	je	.LBB0_5
.LBB0_2:
	xorl	%esi, %esi
.LBB0_14:
	movq	%rax, %r9
	movq	%rsi, %r8
	andq	$3, %r9
	je	.LBB0_17
	movq	%rsi, %r8
	.p2align	4
.LBB0_16:
	vmovss	(%rdx,%r8,4), %xmm1
	vfmadd213ss	(%rcx,%r8,4), %xmm0, %xmm1
	vmovss	%xmm1, (%rcx,%r8,4)
	incq	%r8
	decq	%r9
	jne	.LBB0_16
.LBB0_17:
	subq	%rax, %rsi
	cmpq	$-4, %rsi
	ja	.LBB0_19
	.p2align	4
.LBB0_18:
	vmovss	(%rdx,%r8,4), %xmm1
	vfmadd213ss	(%rcx,%r8,4), %xmm0, %xmm1
	vmovss	%xmm1, (%rcx,%r8,4)
	vmovss	4(%rdx,%r8,4), %xmm1
	vfmadd213ss	4(%rcx,%r8,4), %xmm0, %xmm1
	vmovss	%xmm1, 4(%rcx,%r8,4)
	vmovss	8(%rdx,%r8,4), %xmm1
	vfmadd213ss	8(%rcx,%r8,4), %xmm0, %xmm1
	vmovss	%xmm1, 8(%rcx,%r8,4)
	vmovss	12(%rdx,%r8,4), %xmm1
	vfmadd213ss	12(%rcx,%r8,4), %xmm0, %xmm1
	vmovss	%xmm1, 12(%rcx,%r8,4)
	addq	$4, %r8
	cmpq	%r8, %rax
	jne	.LBB0_18
.LBB0_19:
	movq	$0, (%rdi)
	xorl	%eax, %eax
	vzeroupper
	retq
.LBB0_5:
	movabsq	$9223372036854775776, %r8
	cmpq	$32, %rax
	jae	.LBB0_7
	xorl	%esi, %esi
	jmp	.LBB0_11
.LBB0_7:
	movq	%rax, %rsi
	andq	%r8, %rsi
	vbroadcastss	%xmm0, %ymm1
	xorl	%r9d, %r9d
	.p2align	4
.LBB0_8:
	vmovups	(%rdx,%r9,4), %ymm2
	vmovups	32(%rdx,%r9,4), %ymm3
	vmovups	64(%rdx,%r9,4), %ymm4
	vmovups	96(%rdx,%r9,4), %ymm5
	vfmadd213ps	(%rcx,%r9,4), %ymm1, %ymm2
	vfmadd213ps	32(%rcx,%r9,4), %ymm1, %ymm3
	vfmadd213ps	64(%rcx,%r9,4), %ymm1, %ymm4
	vfmadd213ps	96(%rcx,%r9,4), %ymm1, %ymm5
	vmovups	%ymm2, (%rcx,%r9,4)
	vmovups	%ymm3, 32(%rcx,%r9,4)
	vmovups	%ymm4, 64(%rcx,%r9,4)
	vmovups	%ymm5, 96(%rcx,%r9,4)
	addq	$32, %r9
	cmpq	%r9, %rsi
	jne	.LBB0_8
	cmpq	%rsi, %rax
	je	.LBB0_19
	testb	$28, %al
	je	.LBB0_14
.LBB0_11:
	movq	%rsi, %r9
	addq	$28, %r8
	movq	%r8, %rsi
	andq	%rax, %rsi
	vbroadcastss	%xmm0, %xmm1
	.p2align	4
.LBB0_12:
	vmovups	(%rdx,%r9,4), %xmm2
	vfmadd213ps	(%rcx,%r9,4), %xmm1, %xmm2
	vmovups	%xmm2, (%rcx,%r9,4)
	addq	$4, %r9
	cmpq	%r9, %rsi
	jne	.LBB0_12
	cmpq	%rsi, %rax
	je	.LBB0_19
	jmp	.LBB0_14

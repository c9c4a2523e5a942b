# sum_fast for avx2: x86-64, AVX2 + FMA (Intel Haswell)
# llc-style target: x86_64-unknown-linux-gnu -mcpu=haswell; numba 0.68.1, llvmlite 0.50.0 (LLVM 22.1.0); made by regenerate_listings.py
_ZN12simd_kernels8sum_fastB2v2B60c8tJTIeFIjxB2IKSgI4CrvQClYb5wBbdC9XqICn1Wk1gKBZBVGsCAA_3d_3dE5ArrayIdLi1E1C7mutable7alignedE:
	movq	16(%rsp), %rax
	testq	%rax, %rax
	jle	.LBB0_1
	movq	8(%rsp), %rcx
	cmpq	$4, %rax
	jae	.LBB0_5
	vxorpd	%xmm0, %xmm0, %xmm0
	xorl	%edx, %edx
	jmp	.LBB0_4
.LBB0_1:
	vxorps	%xmm0, %xmm0, %xmm0
	vmovsd	%xmm0, (%rdi)
	xorl	%eax, %eax
	retq
.LBB0_5:
	movabsq	$9223372036854775792, %rsi
	cmpq	$16, %rax
	jae	.LBB0_7
	vxorpd	%xmm0, %xmm0, %xmm0
	xorl	%edx, %edx
	jmp	.LBB0_11
.LBB0_7:
	movq	%rax, %rdx
	andq	%rsi, %rdx
	vxorpd	%xmm0, %xmm0, %xmm0
	xorl	%r8d, %r8d
	vxorpd	%xmm1, %xmm1, %xmm1
	vxorpd	%xmm2, %xmm2, %xmm2
	vxorpd	%xmm3, %xmm3, %xmm3
	.p2align	4
.LBB0_8:
	vaddpd	(%rcx,%r8,8), %ymm0, %ymm0
	vaddpd	32(%rcx,%r8,8), %ymm1, %ymm1
	vaddpd	64(%rcx,%r8,8), %ymm2, %ymm2
	vaddpd	96(%rcx,%r8,8), %ymm3, %ymm3
	addq	$16, %r8
	cmpq	%r8, %rdx
	jne	.LBB0_8
	vaddpd	%ymm0, %ymm1, %ymm0
	vaddpd	%ymm2, %ymm3, %ymm1
	vaddpd	%ymm0, %ymm1, %ymm0
	vextractf128	$1, %ymm0, %xmm1
	vaddpd	%xmm1, %xmm0, %xmm0
	vshufpd	$1, %xmm0, %xmm0, %xmm1
	vaddsd	%xmm1, %xmm0, %xmm0
	cmpq	%rdx, %rax
	je	.LBB0_15
	testb	$12, %al
	je	.LBB0_4
.LBB0_11:
	movq	%rdx, %r8
	addq	$12, %rsi
	movq	%rsi, %rdx
	andq	%rax, %rdx
	vmovq	%xmm0, %xmm0
	.p2align	4
.LBB0_12:
	vaddpd	(%rcx,%r8,8), %ymm0, %ymm0
	addq	$4, %r8
	cmpq	%r8, %rdx
	jne	.LBB0_12
	vextractf128	$1, %ymm0, %xmm1
	vaddpd	%xmm1, %xmm0, %xmm0
	vshufpd	$1, %xmm0, %xmm0, %xmm1
	vaddsd	%xmm1, %xmm0, %xmm0
	jmp	.LBB0_14
.LBB0_4:
	vaddsd	(%rcx,%rdx,8), %xmm0, %xmm0
	incq	%rdx
.LBB0_14:
	cmpq	%rdx, %rax
	jne	.LBB0_4
.LBB0_15:
	vmovsd	%xmm0, (%rdi)
	xorl	%eax, %eax
	vzeroupper
	retq

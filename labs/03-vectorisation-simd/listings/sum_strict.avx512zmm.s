# sum_strict for avx512zmm: the same Xeon with LLVM's prefer-256-bit tuning switched off (512-bit zmm vectors)
# llc-style target: x86_64-unknown-linux-gnu -mcpu=skylake-avx512 -mattr=-prefer-256-bit; numba 0.68.1, llvmlite 0.50.0 (LLVM 22.1.0); made by regenerate_listings.py
_ZN12simd_kernels10sum_strictB2v1B38c8tJTIeFIjxB2IKSgI4CrvQClQZ6FczSBAA_3dE5ArrayIdLi1E1C7mutable7alignedE:
	movq	16(%rsp), %rdx
	testq	%rdx, %rdx
	jle	.LBB0_1
	movq	8(%rsp), %rcx
	movl	%edx, %eax
	andl	$7, %eax
	cmpq	$8, %rdx
	jae	.LBB0_8
	vxorpd	%xmm0, %xmm0, %xmm0
	xorl	%esi, %esi
	jmp	.LBB0_5
.LBB0_1:
	vxorps	%xmm0, %xmm0, %xmm0
	vmovsd	%xmm0, (%rdi)
	xorl	%eax, %eax
	retq
.LBB0_8:
	movabsq	$9223372036854775800, %rsi
	andq	%rsi, %rdx
	vxorpd	%xmm0, %xmm0, %xmm0
	xorl	%esi, %esi
	.p2align	4
.LBB0_9:
	vaddsd	(%rcx,%rsi,8), %xmm0, %xmm0
	vaddsd	8(%rcx,%rsi,8), %xmm0, %xmm0
	vaddsd	16(%rcx,%rsi,8), %xmm0, %xmm0
	vaddsd	24(%rcx,%rsi,8), %xmm0, %xmm0
	vaddsd	32(%rcx,%rsi,8), %xmm0, %xmm0
	vaddsd	40(%rcx,%rsi,8), %xmm0, %xmm0
	vaddsd	48(%rcx,%rsi,8), %xmm0, %xmm0
	vaddsd	56(%rcx,%rsi,8), %xmm0, %xmm0
	addq	$8, %rsi
	cmpq	%rsi, %rdx
	jne	.LBB0_9
	testq	%rax, %rax
	je	.LBB0_7
.LBB0_5:
	leaq	(%rcx,%rsi,8), %rcx
	xorl	%edx, %edx
	.p2align	4
.LBB0_6:
	vaddsd	(%rcx,%rdx,8), %xmm0, %xmm0
	incq	%rdx
	cmpq	%rdx, %rax
	jne	.LBB0_6
.LBB0_7:
	vmovsd	%xmm0, (%rdi)
	xorl	%eax, %eax
	retq

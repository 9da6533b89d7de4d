// Letters used for shapes across SoftmaxGpu (one legend, as in llm.c):
//   N  samples in a dataset        D  features per sample
//   K  classes                      B  rows in the current batch (B <= N)
// Every matrix is row-major. X: [N, D] or [B, D]; W: [K, D]; b: [K]; Z, Q, G: [B, K].
// The parameters live in one flat vector theta = [W (K*D) | b (K)] so that one optimizer launch
// updates both, and the first K*D entries (W) are the ones weight decay applies to.
namespace SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Tests.Reference;

/// <summary>
/// The readable ground truth: the same maths as the kernels, in float64 plain loops, no ILGPU.
/// Every kernel test and the pinned training curve compare against these functions.
/// Shapes: X [B, D], W [K, D], b [K], Z/Q/G [B, K], all row-major.
/// </summary>
public static class ReferenceMath
{
    /// <summary>Z = X·Wᵀ + b.</summary>
    public static double[] Logits(double[] x, double[] w, double[] b, int rows, int d, int k)
    {
        var z = new double[rows * k];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
            {
                double sum = b[c];
                for (int j = 0; j < d; j++)
                    sum += x[r * d + j] * w[c * d + j];
                z[r * k + c] = sum;
            }
        return z;
    }

    /// <summary>Q = softmax(Z) row-wise, stably (max subtracted), and lse[r] = logsumexp(Z[r, :]).</summary>
    public static (double[] Q, double[] LogSumExp) Softmax(double[] z, int rows, int k)
    {
        var q = new double[rows * k];
        var lse = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < k; c++)
                max = Math.Max(max, z[r * k + c]);
            double sum = 0;
            for (int c = 0; c < k; c++)
                sum += Math.Exp(z[r * k + c] - max);
            lse[r] = max + Math.Log(sum);
            for (int c = 0; c < k; c++)
                q[r * k + c] = Math.Exp(z[r * k + c] - lse[r]);
        }
        return (q, lse);
    }

    /// <summary>Y as a [B, K] matrix: one-hot rows of the labels, or the soft targets themselves.</summary>
    public static double[] Targets(int[] labels, double[]? soft, int rows, int k)
    {
        if (soft is not null)
            return soft;
        var y = new double[rows * k];
        for (int r = 0; r < rows; r++)
            y[r * k + labels[r]] = 1;
        return y;
    }

    /// <summary>Mean cross-entropy −(1/B) Σ_r Σ_c Y[r, c] log q[r, c], with log q = z − lse.</summary>
    public static double CrossEntropy(double[] z, double[] lse, double[] y, int rows, int k)
    {
        double total = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
                if (y[r * k + c] > 0)
                    total += y[r * k + c] * (lse[r] - z[r * k + c]);
        return total / rows;
    }

    /// <summary>Rows whose largest logit is at their target's largest entry.</summary>
    public static int Correct(double[] z, double[] y, int rows, int k)
    {
        int correct = 0;
        for (int r = 0; r < rows; r++)
            if (ArgMax(z, r * k, k) == ArgMax(y, r * k, k))
                correct++;
        return correct;
    }

    public static int ArgMax(double[] v, int start, int count)
    {
        int best = 0;
        for (int c = 1; c < count; c++)
            if (v[start + c] > v[start + best])
                best = c;
        return best;
    }

    /// <summary>
    /// G = (m_r·Q − Y) / B, m_r = Σ_c Y[r, c]: the gradient of −Σ_c y_c log q_c with respect to z is (Σ_c y_c)·q − y,
    /// which is Q − Y for labels and probability rows (m = 1) and keeps the weight of a weighted row (m = its weight).
    /// </summary>
    public static double[] LogitGradient(double[] q, double[] y, int rows)
    {
        int k = q.Length / rows;
        var g = new double[q.Length];
        for (int r = 0; r < rows; r++)
        {
            double mass = 0;
            for (int c = 0; c < k; c++)
                mass += y[r * k + c];
            for (int c = 0; c < k; c++)
                g[r * k + c] = (mass * q[r * k + c] - y[r * k + c]) / rows;
        }
        return g;
    }

    /// <summary>dW = Gᵀ·X: [K, D], db = Σ_r G[r, :]: [K].</summary>
    public static (double[] DW, double[] DB) ParameterGradient(double[] g, double[] x, int rows, int d, int k)
    {
        var dw = new double[k * d];
        var db = new double[k];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
            {
                double gi = g[r * k + c];
                db[c] += gi;
                for (int j = 0; j < d; j++)
                    dw[c * d + j] += gi * x[r * d + j];
            }
        return (dw, db);
    }

    /// <summary>
    /// The training objective J = mean CE + (λ/2)‖W‖² (b unpenalized) and its gradient with respect to
    /// theta = [W | b]. With weighted soft targets (row r's targets summing to its weight w_r) the mean CE is
    /// (1/B) Σ_r w_r·CE_r: weights of mean 1 make it the weighted mean Σ w·CE / Σ w.
    /// </summary>
    public static (double Objective, double[] Gradient) ObjectiveAndGradient(double[] theta, double[] x,
        int[] labels, double[]? soft, int rows, int d, int k, double weightDecay)
    {
        double[] w = theta[..(k * d)];
        double[] b = theta[(k * d)..];
        double[] z = Logits(x, w, b, rows, d, k);
        (double[] q, double[] lse) = Softmax(z, rows, k);
        double[] y = Targets(labels, soft, rows, k);
        (double[] dw, double[] db) = ParameterGradient(LogitGradient(q, y, rows), x, rows, d, k);
        return Penalized(CrossEntropy(z, lse, y, rows, k), dw, db, w, weightDecay);
    }

    /// <summary>J = loss + (λ/2)‖W‖² and ∇J = [dW + λW | db]: the L2 penalty on W (b unpenalized) added to a mean loss.</summary>
    private static (double Objective, double[] Gradient) Penalized(double loss, double[] dw, double[] db, double[] w,
        double weightDecay)
    {
        var gradient = new double[dw.Length + db.Length];
        double objective = loss;
        for (int i = 0; i < dw.Length; i++)
        {
            objective += 0.5 * weightDecay * w[i] * w[i];
            gradient[i] = dw[i] + weightDecay * w[i];
        }
        Array.Copy(db, 0, gradient, dw.Length, db.Length);
        return (objective, gradient);
    }

    /// <summary>SGD with momentum (Nesterov optional) on theta; weight decay on entries [0, penalized).</summary>
    public static void SgdStep(double[] theta, double[] grad, double[] velocity, double lr, double momentum,
        bool nesterov, double weightDecay, int penalized)
    {
        for (int i = 0; i < theta.Length; i++)
        {
            double g = grad[i] + (i < penalized ? weightDecay * theta[i] : 0);
            velocity[i] = momentum * velocity[i] + g;
            theta[i] -= lr * (nesterov ? g + momentum * velocity[i] : velocity[i]);
        }
    }

    /// <summary>Adam step t (1-based) on theta; weight decay on entries [0, penalized).</summary>
    public static void AdamStep(double[] theta, double[] grad, double[] m, double[] v, long t, double lr,
        double beta1, double beta2, double epsilon, double weightDecay, int penalized)
    {
        double c1 = 1 - Math.Pow(beta1, t);
        double c2 = 1 - Math.Pow(beta2, t);
        for (int i = 0; i < theta.Length; i++)
        {
            double g = grad[i] + (i < penalized ? weightDecay * theta[i] : 0);
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            theta[i] -= lr * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + epsilon);
        }
    }

    /// <summary>Q = σ(Z) elementwise: each tag's probability (multi-label).</summary>
    public static double[] Sigmoid(double[] z) => z.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();

    /// <summary>
    /// Mean over rows of the binary cross-entropy with logits summed over the K tags:
    /// (1/B) Σ_r Σ_c max(z, 0) − z·y + log(1 + exp(−|z|)), which is −y log σ(z) − (1 − y) log(1 − σ(z)) without
    /// forming σ.
    /// </summary>
    public static double BinaryCrossEntropy(double[] z, double[] y, int rows)
    {
        double total = 0;
        for (int i = 0; i < z.Length; i++)
            total += Math.Max(z[i], 0) - z[i] * y[i] + Math.Log(1 + Math.Exp(-Math.Abs(z[i])));
        return total / rows;
    }

    /// <summary>Rows whose every tag decision (z ≥ 0, i.e. σ(z) ≥ 0.5) equals its target (y ≥ 0.5): subset accuracy's count.</summary>
    public static int SubsetCorrect(double[] z, double[] y, int rows, int k)
    {
        int correct = 0;
        for (int r = 0; r < rows; r++)
        {
            bool all = true;
            for (int c = 0; c < k; c++)
                all &= (z[r * k + c] >= 0) == (y[r * k + c] >= 0.5);
            correct += all ? 1 : 0;
        }
        return correct;
    }

    /// <summary>
    /// The multi-label objective J = mean Σ_tags BCE + (λ/2)‖W‖² (b unpenalized) and its gradient with respect to
    /// theta = [W | b]: ∂/∂Z = (σ(Z) − Y)/B.
    /// </summary>
    public static (double Objective, double[] Gradient) MultiLabelObjectiveAndGradient(double[] theta, double[] x,
        double[] y, int rows, int d, int k, double weightDecay)
    {
        double[] w = theta[..(k * d)];
        double[] z = Logits(x, w, theta[(k * d)..], rows, d, k);
        double[] q = Sigmoid(z);
        var g = new double[q.Length];
        for (int i = 0; i < q.Length; i++)
            g[i] = (q[i] - y[i]) / rows;
        (double[] dw, double[] db) = ParameterGradient(g, x, rows, d, k);
        return Penalized(BinaryCrossEntropy(z, y, rows), dw, db, w, weightDecay);
    }
}

namespace SoftmaxGpu.Tests;

/// <summary>
/// Every bad CSV input training must reject: a name, the file's text (null: no file at all), and the words the
/// error must contain. `train` (CliTests) and `convert` (SgdFileTests) are both held to them.
/// </summary>
public static class BadCsv
{
    public static TheoryData<string, string?, string> Inputs => new()
    {
        { "missing", null, "file not found" },
        { "empty", "", "empty" },
        { "header only", "a,b,label\n", "no data rows" },
        { "too few fields", "a,b,label\n1,2,x\n3,y\n", "line 3: 2 fields; expected 3" },
        { "too many fields", "a,b,label\n1,2,x\n3,4,5,y\n", "line 3: 4 fields; expected 3" },
        { "non-numeric", "a,b,label\n1,2,x\n3,abc,y\n", "line 3, column 2 ('b'): 'abc' is not a number" },
        { "NaN", "a,b,label\n1,NaN,x\n3,4,y\n", "line 2, column 2 ('b'): 'NaN' is not a finite number" },
        { "infinite", "a,b,label\n1,2,x\n-Infinity,4,y\n", "line 3, column 1 ('a'): '-Infinity' is not a finite number" },
        { "overflow", "a,b,label\n1,2,x\n1e39,4,y\n", "is not a finite number" },
        { "missing label", "a,b,label\n1,2,x\n3,4,\n", "line 3, column 3 ('label'): the label is missing" },
        { "a name twice", "a,b,a,label\n1,2,3,x\n3,4,5,y\n", "line 1: columns 1 and 3 are both named 'a'; each column needs a name of its own" },
        { "no header, a value twice", "1,1,0\n3,4,1\n5,6,0\n", "columns 1 and 2 are both named '1'; each column needs a name of its own; is the first line data?" },
        { "one class", "a,b,label\n1,2,x\n3,4,x\n", "the label column 'label' has only one class ('x'); a classifier needs at least two" },
    };
}

// GENERATED from the grammar in parser.ts by `generateCstDts` (chevrotain). Do not edit by hand:
// test/cst-types.test.ts fails when this file is stale and prints the command to regenerate it.
// With error recovery on, children typed as required may still be missing; build-ast.ts reads them
// through `Loose<...>` for that reason.
import type { CstNode, ICstVisitor, IToken } from "chevrotain";

export interface FileCstNode extends CstNode {
  name: "file";
  children: FileCstChildren;
}

export type FileCstChildren = {
  Newline?: IToken[];
  importDecl?: ImportDeclCstNode[];
  modelDecl?: ModelDeclCstNode[];
  blockDecl?: BlockDeclCstNode[];
};

export interface ImportDeclCstNode extends CstNode {
  name: "importDecl";
  children: ImportDeclCstChildren;
}

export type ImportDeclCstChildren = {
  Import: IToken[];
  StringLiteral: IToken[];
};

export interface ModelDeclCstNode extends CstNode {
  name: "modelDecl";
  children: ModelDeclCstChildren;
}

export type ModelDeclCstChildren = {
  Model: IToken[];
  Identifier: IToken[];
  optionalParams: OptionalParamsCstNode[];
  body: BodyCstNode[];
};

export interface BlockDeclCstNode extends CstNode {
  name: "blockDecl";
  children: BlockDeclCstChildren;
}

export type BlockDeclCstChildren = {
  Block: IToken[];
  Identifier: IToken[];
  optionalParams: OptionalParamsCstNode[];
  body: BodyCstNode[];
};

export interface OptionalParamsCstNode extends CstNode {
  name: "optionalParams";
  children: OptionalParamsCstChildren;
}

export type OptionalParamsCstChildren = {
  paramList?: ParamListCstNode[];
};

export interface ParamListCstNode extends CstNode {
  name: "paramList";
  children: ParamListCstChildren;
}

export type ParamListCstChildren = {
  LParen: IToken[];
  paramDecl?: ParamDeclCstNode[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface ParamDeclCstNode extends CstNode {
  name: "paramDecl";
  children: ParamDeclCstChildren;
}

export type ParamDeclCstChildren = {
  Identifier: IToken[];
  Equals?: IToken[];
  expression?: ExpressionCstNode[];
};

export interface BodyCstNode extends CstNode {
  name: "body";
  children: BodyCstChildren;
}

export type BodyCstChildren = {
  LBrace: IToken[];
  member?: MemberCstNode[];
  endOfLine?: EndOfLineCstNode[];
  RBrace: IToken[];
};

export interface EndOfLineCstNode extends CstNode {
  name: "endOfLine";
  children: EndOfLineCstChildren;
}

export type EndOfLineCstChildren = {
  Newline: IToken[];
};

export interface MemberCstNode extends CstNode {
  name: "member";
  children: MemberCstChildren;
}

export type MemberCstChildren = {
  inputDecl?: InputDeclCstNode[];
  outputDecl?: OutputDeclCstNode[];
  scopeStmt?: ScopeStmtCstNode[];
  trainSection?: TrainSectionCstNode[];
  yieldStmt?: YieldStmtCstNode[];
  assignment?: AssignmentCstNode[];
};

export interface InputDeclCstNode extends CstNode {
  name: "inputDecl";
  children: InputDeclCstChildren;
}

export type InputDeclCstChildren = {
  Input: IToken[];
  Identifier: IToken[];
  Colon: IToken[];
  tensorType: TensorTypeCstNode[];
};

export interface OutputDeclCstNode extends CstNode {
  name: "outputDecl";
  children: OutputDeclCstChildren;
}

export type OutputDeclCstChildren = {
  Output: IToken[];
  Identifier: IToken[];
  Colon?: IToken[];
  tensorType?: TensorTypeCstNode[];
};

export interface TensorTypeCstNode extends CstNode {
  name: "tensorType";
  children: TensorTypeCstChildren;
}

export type TensorTypeCstChildren = {
  dtype: DtypeCstNode[];
  LBracket: IToken[];
  dim?: DimCstNode[];
  Comma?: IToken[];
  RBracket: IToken[];
};

export interface DtypeCstNode extends CstNode {
  name: "dtype";
  children: DtypeCstChildren;
}

export type DtypeCstChildren = {
  Dtype?: IToken[];
  Identifier?: IToken[];
};

export interface DimCstNode extends CstNode {
  name: "dim";
  children: DimCstChildren;
}

export type DimCstChildren = {
  dimTerm: (DimTermCstNode)[];
  AddOp?: IToken[];
};

export interface DimTermCstNode extends CstNode {
  name: "dimTerm";
  children: DimTermCstChildren;
}

export type DimTermCstChildren = {
  dimAtom: (DimAtomCstNode)[];
  MulOp?: IToken[];
};

export interface DimAtomCstNode extends CstNode {
  name: "dimAtom";
  children: DimAtomCstChildren;
}

export type DimAtomCstChildren = {
  IntegerLiteral?: IToken[];
  FloatLiteral?: IToken[];
  Identifier?: IToken[];
  LParen?: IToken[];
  dim?: DimCstNode[];
  RParen?: IToken[];
};

export interface ScopeStmtCstNode extends CstNode {
  name: "scopeStmt";
  children: ScopeStmtCstChildren;
}

export type ScopeStmtCstChildren = {
  Encoder?: IToken[];
  Decoder?: IToken[];
  Scope?: IToken[];
  Identifier?: IToken[];
  misspelt?: IToken[];
  body: BodyCstNode[];
};

export interface TrainSectionCstNode extends CstNode {
  name: "trainSection";
  children: TrainSectionCstChildren;
}

export type TrainSectionCstChildren = {
  Train: IToken[];
  LBrace: IToken[];
  trainEntry?: TrainEntryCstNode[];
  endOfLine?: EndOfLineCstNode[];
  RBrace: IToken[];
};

export interface TrainEntryCstNode extends CstNode {
  name: "trainEntry";
  children: TrainEntryCstChildren;
}

export type TrainEntryCstChildren = {
  Identifier: IToken[];
  Colon: IToken[];
  expression: ExpressionCstNode[];
};

export interface YieldStmtCstNode extends CstNode {
  name: "yieldStmt";
  children: YieldStmtCstChildren;
}

export type YieldStmtCstChildren = {
  Yield: IToken[];
  expression: ExpressionCstNode[];
  Comma?: IToken[];
};

export interface AssignmentCstNode extends CstNode {
  name: "assignment";
  children: AssignmentCstChildren;
}

export type AssignmentCstChildren = {
  Identifier: IToken[];
  Comma?: IToken[];
  Equals: IToken[];
  rhs: RhsCstNode[];
  As?: IToken[];
  scopeName?: IToken[];
};

export interface RhsCstNode extends CstNode {
  name: "rhs";
  children: RhsCstChildren;
}

export type RhsCstChildren = {
  repeatExpr?: RepeatExprCstNode[];
  scanExpr?: ScanExprCstNode[];
  expression?: ExpressionCstNode[];
};

export interface RepeatExprCstNode extends CstNode {
  name: "repeatExpr";
  children: RepeatExprCstChildren;
}

export type RepeatExprCstChildren = {
  Repeat: IToken[];
  count: AdditiveCstNode[];
  Identifier: IToken[];
  args: ArgListCstNode[];
  inputs: ArgListCstNode[];
};

export interface ScanExprCstNode extends CstNode {
  name: "scanExpr";
  children: ScanExprCstChildren;
}

export type ScanExprCstChildren = {
  Scan: IToken[];
  LParen: IToken[];
  scanBinding: ScanBindingCstNode[];
  Comma?: IToken[];
  RParen: IToken[];
  body: BodyCstNode[];
};

export interface ScanBindingCstNode extends CstNode {
  name: "scanBinding";
  children: ScanBindingCstChildren;
}

export type ScanBindingCstChildren = {
  Identifier: IToken[];
  Over?: IToken[];
  sequence?: ExpressionCstNode[];
  Equals?: IToken[];
  init?: ExpressionCstNode[];
};

export interface ExpressionCstNode extends CstNode {
  name: "expression";
  children: ExpressionCstChildren;
}

export type ExpressionCstChildren = {
  left: AdditiveCstNode[];
  CompareOp?: IToken[];
  right?: AdditiveCstNode[];
};

export interface AdditiveCstNode extends CstNode {
  name: "additive";
  children: AdditiveCstChildren;
}

export type AdditiveCstChildren = {
  operands: (MultiplicativeCstNode)[];
  AddOp?: IToken[];
};

export interface MultiplicativeCstNode extends CstNode {
  name: "multiplicative";
  children: MultiplicativeCstChildren;
}

export type MultiplicativeCstChildren = {
  operands: (UnaryCstNode)[];
  MulOp?: IToken[];
};

export interface UnaryCstNode extends CstNode {
  name: "unary";
  children: UnaryCstChildren;
}

export type UnaryCstChildren = {
  Minus?: IToken[];
  unary?: UnaryCstNode[];
  primary?: PrimaryCstNode[];
};

export interface PrimaryCstNode extends CstNode {
  name: "primary";
  children: PrimaryCstChildren;
}

export type PrimaryCstChildren = {
  IntegerLiteral?: IToken[];
  FloatLiteral?: IToken[];
  StringLiteral?: IToken[];
  True?: IToken[];
  False?: IToken[];
  Dtype?: IToken[];
  list?: ListCstNode[];
  parenthesized?: ParenthesizedCstNode[];
  attentionExpr?: AttentionExprCstNode[];
  callOrName?: CallOrNameCstNode[];
};

export interface ListCstNode extends CstNode {
  name: "list";
  children: ListCstChildren;
}

export type ListCstChildren = {
  LBracket: IToken[];
  expression?: ExpressionCstNode[];
  Comma?: IToken[];
  RBracket: IToken[];
};

export interface ParenthesizedCstNode extends CstNode {
  name: "parenthesized";
  children: ParenthesizedCstChildren;
}

export type ParenthesizedCstChildren = {
  LParen: IToken[];
  expression: ExpressionCstNode[];
  RParen: IToken[];
};

export interface AttentionExprCstNode extends CstNode {
  name: "attentionExpr";
  children: AttentionExprCstChildren;
}

export type AttentionExprCstChildren = {
  Attention: IToken[];
  Identifier: IToken[];
  argList: ArgListCstNode[];
};

export interface CallOrNameCstNode extends CstNode {
  name: "callOrName";
  children: CallOrNameCstChildren;
}

export type CallOrNameCstChildren = {
  Identifier: IToken[];
  args?: ArgListCstNode[];
  inputs?: ArgListCstNode[];
};

export interface ArgListCstNode extends CstNode {
  name: "argList";
  children: ArgListCstChildren;
}

export type ArgListCstChildren = {
  LParen: IToken[];
  argument?: ArgumentCstNode[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface ArgumentCstNode extends CstNode {
  name: "argument";
  children: ArgumentCstChildren;
}

export type ArgumentCstChildren = {
  key?: IToken[];
  Colon?: IToken[];
  expression: ExpressionCstNode[];
};

export interface ICstNodeVisitor<IN, OUT> extends ICstVisitor<IN, OUT> {
  file(children: FileCstChildren, param?: IN): OUT;
  importDecl(children: ImportDeclCstChildren, param?: IN): OUT;
  modelDecl(children: ModelDeclCstChildren, param?: IN): OUT;
  blockDecl(children: BlockDeclCstChildren, param?: IN): OUT;
  optionalParams(children: OptionalParamsCstChildren, param?: IN): OUT;
  paramList(children: ParamListCstChildren, param?: IN): OUT;
  paramDecl(children: ParamDeclCstChildren, param?: IN): OUT;
  body(children: BodyCstChildren, param?: IN): OUT;
  endOfLine(children: EndOfLineCstChildren, param?: IN): OUT;
  member(children: MemberCstChildren, param?: IN): OUT;
  inputDecl(children: InputDeclCstChildren, param?: IN): OUT;
  outputDecl(children: OutputDeclCstChildren, param?: IN): OUT;
  tensorType(children: TensorTypeCstChildren, param?: IN): OUT;
  dtype(children: DtypeCstChildren, param?: IN): OUT;
  dim(children: DimCstChildren, param?: IN): OUT;
  dimTerm(children: DimTermCstChildren, param?: IN): OUT;
  dimAtom(children: DimAtomCstChildren, param?: IN): OUT;
  scopeStmt(children: ScopeStmtCstChildren, param?: IN): OUT;
  trainSection(children: TrainSectionCstChildren, param?: IN): OUT;
  trainEntry(children: TrainEntryCstChildren, param?: IN): OUT;
  yieldStmt(children: YieldStmtCstChildren, param?: IN): OUT;
  assignment(children: AssignmentCstChildren, param?: IN): OUT;
  rhs(children: RhsCstChildren, param?: IN): OUT;
  repeatExpr(children: RepeatExprCstChildren, param?: IN): OUT;
  scanExpr(children: ScanExprCstChildren, param?: IN): OUT;
  scanBinding(children: ScanBindingCstChildren, param?: IN): OUT;
  expression(children: ExpressionCstChildren, param?: IN): OUT;
  additive(children: AdditiveCstChildren, param?: IN): OUT;
  multiplicative(children: MultiplicativeCstChildren, param?: IN): OUT;
  unary(children: UnaryCstChildren, param?: IN): OUT;
  primary(children: PrimaryCstChildren, param?: IN): OUT;
  list(children: ListCstChildren, param?: IN): OUT;
  parenthesized(children: ParenthesizedCstChildren, param?: IN): OUT;
  attentionExpr(children: AttentionExprCstChildren, param?: IN): OUT;
  callOrName(children: CallOrNameCstChildren, param?: IN): OUT;
  argList(children: ArgListCstChildren, param?: IN): OUT;
  argument(children: ArgumentCstChildren, param?: IN): OUT;
}
